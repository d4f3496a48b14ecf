"""Temperature sources (fake hwmon / thermal-zone trees, the RC model) and the governor."""
import math
import threading
import time

import pytest

from workbench.energy.meter import Meter
from workbench.energy.sampler import Sampler
from workbench.energy.select import make_temperature
from workbench.energy.thermal import (Governor, HwmonSensor, SimulatedSensor, ThermalRC, ThermalRCConfig,
                                      ThermalZoneSensor)
from workbench.errors import MeterError, SettingsError


def write(path, text):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def fake_hwmon(root):
    write(root / "hwmon0" / "name", "nvme\n")
    write(root / "hwmon0" / "temp1_input", "80000\n")
    write(root / "hwmon1" / "name", "k10temp\n")
    write(root / "hwmon1" / "temp1_input", "55000\n")
    write(root / "hwmon1" / "temp3_input", "61500\n")
    write(root / "hwmon2" / "name", "acpi_fan\n")   # no temperature inputs
    return root


def fake_zones(root):
    write(root / "thermal_zone0" / "type", "acpitz\n")
    write(root / "thermal_zone0" / "temp", "45000\n")
    write(root / "thermal_zone1" / "type", "x86_pkg_temp\n")
    write(root / "thermal_zone1" / "temp", "70000\n")
    write(root / "thermal_zone2" / "type", "iwlwifi_1\n")
    write(root / "thermal_zone2" / "temp", "90000\n")
    return root


class ConstantMeter(Meter):
    source = "estimated:cpu-time"

    def _energy_j(self):
        return 0.0


def wait_for(cond, timeout_s=20.0):
    end = time.monotonic() + timeout_s
    while not cond():
        assert time.monotonic() < end, "condition not reached"
        time.sleep(0.01)


# -- sensors --------------------------------------------------------------------------------
def test_hwmon_prefers_cpu_chip(tmp_path):
    sensor = HwmonSensor(fake_hwmon(tmp_path))
    assert sensor.chip == "k10temp" and sensor.read_c() == 61.5 and sensor.source == "measured:hwmon"


def test_thermal_zone_prefers_cpu_zones(tmp_path):
    sensor = ThermalZoneSensor(fake_zones(tmp_path))
    assert sensor.read_c() == 70.0 and sensor.source == "measured:thermal-zone"
    assert "thermal_zone2" not in sensor.detail


def test_make_temperature_chain(tmp_path, monkeypatch):
    monkeypatch.setenv("WORKBENCH_HWMON_ROOT", str(tmp_path / "no-hwmon"))
    monkeypatch.setenv("WORKBENCH_THERMAL_ROOT", str(fake_zones(tmp_path / "thermal")))
    source, (reason,) = make_temperature("cpu")
    assert isinstance(source, ThermalZoneSensor) and reason.endswith("— using measured:thermal-zone")
    monkeypatch.setenv("WORKBENCH_HWMON_ROOT", str(fake_hwmon(tmp_path / "hwmon")))
    assert make_temperature("cpu")[0].source == "measured:hwmon" and make_temperature("cpu")[1] == []
    monkeypatch.setenv("WORKBENCH_HWMON_ROOT", str(tmp_path / "none"))
    monkeypatch.setenv("WORKBENCH_THERMAL_ROOT", str(tmp_path / "none"))
    source, (reason,) = make_temperature("cpu")
    assert source.source == "modelled:thermal-rc" and reason.endswith("— using modelled:thermal-rc")
    assert "no hwmon" in reason and "thermal_zone" in reason
    assert make_temperature("cuda:0")[0].source == "modelled:thermal-rc"


def test_unreadable_sensor_is_skipped(tmp_path):
    write(tmp_path / "hwmon0" / "name", "coretemp\n")
    write(tmp_path / "hwmon0" / "temp1_input", "not a number\n")
    with pytest.raises(MeterError, match="no readable temp"):
        HwmonSensor(tmp_path)


# -- the RC model ---------------------------------------------------------------------------
def test_rc_step_matches_closed_form():
    cfg = ThermalRCConfig(t_ambient_c=20.0, r_th_k_per_w=2.0, tau_s=5.0)
    model = ThermalRC(cfg)
    t = model.step(30.0, 3.0)            # target 80 °C
    assert t == pytest.approx(80.0 - 60.0 * math.exp(-3.0 / 5.0), abs=1e-12)
    m2 = ThermalRC(cfg)
    for _ in range(10):                  # ten steps of 0.3 s = one step of 3 s (exact scheme)
        m2.step(30.0, 0.3)
    assert m2.temp_c == pytest.approx(t, abs=1e-9)
    model.step(0.0, 1e6)
    assert model.temp_c == pytest.approx(20.0)


def test_rc_defaults_pass_70_within_10_to_20_s_for_two_busy_cores():
    model = ThermalRC()
    assert model.source == "modelled:thermal-rc" and model.temp_c == 25.0
    t_s, power_w = 0.0, 2 * 225 / 64      # two cores, EPYC row of the cpu_power table
    while model.read_c(power_w, t_s) < 70.0:
        t_s = round(t_s + 0.1, 10)
    assert 10.0 <= t_s <= 20.0


def test_rc_read_uses_time_differences():
    model = ThermalRC(ThermalRCConfig(t_ambient_c=0.0, r_th_k_per_w=1.0, tau_s=1.0))
    assert model.read_c(100.0, 0.0) == 0.0           # first call only sets the clock
    assert model.read_c(100.0, 1.0) == pytest.approx(100.0 * (1 - math.exp(-1.0)))
    assert model.read_c(100.0, 1.0) == pytest.approx(100.0 * (1 - math.exp(-1.0)))  # no time, no change
    with pytest.raises(SettingsError):
        ThermalRC(ThermalRCConfig(tau_s=0.0))


# -- the governor ---------------------------------------------------------------------------
def test_governor_hysteresis():
    gov = Governor(t_min_c=60.0, t_max_c=85.0)
    temps = [50, 80, 85, 86, 84, 70, 60, 59, 62, 84, 86, None, 40]
    states = [gov.update(float(i), t) for i, t in enumerate(temps)]
    assert states == [False, False, False, True, True, True, True, False, False, False, True, True, False]
    assert gov.intervals == [[3.0, 7.0], [10.0, 12.0]]
    assert gov.paused_s(20.0) == 6.0
    with pytest.raises(SettingsError, match="t_min_c must be below t_max_c"):
        Governor(70.0, 70.0)


def test_simulated_sensor_drives_the_governor_in_the_sampler():
    sensor = SimulatedSensor([50, 90, 90, 70, 55] + [55] * 1000)
    changes = []
    s = Sampler(ConstantMeter(), hz=100.0, temperature=sensor, governor=Governor(60.0, 85.0),
                on_pause_change=changes.append)
    s.start()
    wait_for(lambda: len(s.samples) >= 8)
    summary = s.stop()
    paused = [x.paused for x in s.samples[:6]]
    assert paused == [False, True, True, True, False, False]
    assert changes == [True, False]
    assert summary.peak_temp_c == 90 and summary.temp_source == "modelled:playback"
    assert summary.paused_s == pytest.approx(s.samples[4].t_s - s.samples[1].t_s)


def test_wait_while_paused_returns_on_resume_and_on_stop():
    s = Sampler(ConstantMeter(), hz=100.0, temperature=SimulatedSensor([90] * 5 + [50]), governor=Governor(60.0, 85.0))
    s.start()
    assert s.paused                           # the first sample, at start(), is hot
    waited = s.wait_while_paused(lambda: False, poll_s=0.01)
    assert waited >= 0.0 and not s.paused
    s.stop()

    hot = Sampler(ConstantMeter(), hz=100.0, temperature=SimulatedSensor([90]), governor=Governor(60.0, 85.0)).start()
    stop = threading.Event()
    threading.Timer(0.2, stop.set).start()
    hot.wait_while_paused(stop.is_set, poll_s=0.01)
    assert hot.paused and stop.is_set()       # returned because stop was asked, still paused
    hot.stop()
    assert hot.wait_while_paused(lambda: False) < 1.0  # a stopped sampler never blocks


def test_governor_gives_up_a_pause_that_can_never_end():
    from workbench.energy.thermal import Governor
    g = Governor(t_min_c=20.0, t_max_c=30.0, max_pause_s=5.0)
    assert g.update(0.0, 31.0) is True
    assert g.update(4.9, 29.0) is True          # still above t_min, not yet given up
    assert g.update(5.0, 29.0) is False         # idle device cannot reach 20 °C: resume
    assert g.intervals == [[0.0, 5.0]] and "not reached after 5 s" in g.gave_up[0]
