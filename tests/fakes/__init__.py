"""Fake sensors for the energy tests: a pynvml module and a powercap sysfs tree."""
