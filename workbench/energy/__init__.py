"""Energy: meters (nvml, rapl, estimated), their selection and fallback (select), the sampler
thread (sampler), temperature sources and the thermal governor (thermal), and the energy models.

Import from the modules themselves, e.g. `from workbench.energy.select import make_meter`.
"""
