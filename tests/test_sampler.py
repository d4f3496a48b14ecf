"""The sampler thread: samples, nested windows, robustness to callbacks, the summary."""
import threading
import time

import pytest

from workbench.energy.meter import Meter
from workbench.energy.sampler import SHORT_NVML_FLAG, EnergySummary, Sampler
from workbench.energy.select import FallbackMeter
from workbench.errors import MeterError


class ScriptedMeter(Meter):
    """Energy and time are whatever the test sets; reads are counted."""

    def __init__(self, source="measured:rapl", fail_after=None):
        self.source, self.detail = source, f"scripted {source}"
        self.energy, self.t, self.reads, self.fail_after = 0.0, 0.0, 0, fail_after
        self.clock = lambda: self.t
        self.closed = False

    def _energy_j(self):
        self.reads += 1
        if self.fail_after is not None and self.reads > self.fail_after:
            raise MeterError("scripted: sensor gone")
        return self.energy

    def close(self):
        self.closed = True


def wait_for(cond, timeout_s=20.0):
    """Poll a condition; a generous ceiling only so a broken sampler cannot hang the suite."""
    end = time.monotonic() + timeout_s
    while not cond():
        assert time.monotonic() < end, "condition not reached"
        time.sleep(0.01)


def test_windows_nest_with_exact_energy():
    meter = ScriptedMeter()
    s = Sampler(meter, hz=0.01).start()   # the thread sleeps 100 s: the windows see only our reads
    meter.energy, meter.t = 10.0, 1.0
    s.begin_window("run")
    meter.energy, meter.t = 15.0, 2.0
    with s.window("step"):
        meter.energy, meter.t = 18.0, 2.5
    meter.energy, meter.t = 30.0, 4.0
    outer = s.end_window("run")
    summary = s.stop()
    inner = s.windows[0]
    assert (inner.name, inner.t0, inner.t1, inner.duration_s, inner.energy_j) == ("step", 2.0, 2.5, 0.5, 3.0)
    assert (outer.name, outer.duration_s, outer.energy_j, outer.source) == ("run", 3.0, 20.0, "measured:rapl")
    assert [w.name for w in s.windows] == ["step", "run"] and outer.flags == ()
    assert meter.closed and summary.energy_j == 30.0


def test_window_misuse_is_a_meter_error():
    meter = ScriptedMeter()
    s = Sampler(meter, hz=0.01)
    with pytest.raises(MeterError, match="call start"):
        s.begin_window("a")
    s.start()
    s.begin_window("a")
    with pytest.raises(MeterError, match="already open; open windows: a"):
        s.begin_window("a")
    with pytest.raises(MeterError, match="no open window 'b'; open windows: a"):
        s.end_window("b")
    s.stop()


def test_short_nvml_window_is_flagged():
    meter = ScriptedMeter(source="measured:nvml")
    s = Sampler(meter, hz=0.01).start()
    meter.t = 1.0
    s.begin_window("short")
    meter.t = 1.05
    assert s.end_window("short").flags == (SHORT_NVML_FLAG,)
    s.begin_window("long")
    meter.t = 1.5
    assert s.end_window("long").flags == ()
    s.stop()


def test_short_rapl_window_is_not_flagged():
    meter = ScriptedMeter(source="measured:rapl")
    s = Sampler(meter, hz=0.01).start()
    s.begin_window("short")
    meter.t = 0.01
    assert s.end_window("short").flags == ()
    s.stop()


def test_on_sample_raising_does_not_stop_the_thread():
    seen = []

    def bad(sample):
        seen.append(sample)
        raise RuntimeError("plot broke")

    meter = ScriptedMeter()
    s = Sampler(meter, hz=100.0, on_sample=bad, work_fn=lambda: 42).start()
    wait_for(lambda: len(seen) >= 5)
    assert s._thread.is_alive()
    s.stop()
    assert not s._thread.is_alive()
    assert s.errors == ["on_sample raised: RuntimeError: plot broke"]   # logged once
    assert all(x.work == 42 for x in s.samples)


def test_work_fn_raising_gives_none():
    s = Sampler(ScriptedMeter(), hz=0.01, work_fn=lambda: 1 / 0).start()
    s.stop()
    assert s.samples[0].work is None and s.errors[0].startswith("work_fn raised: ZeroDivisionError")


def test_samples_and_summary():
    meter = ScriptedMeter()
    s = Sampler(meter, hz=100.0)
    s.start()
    wait_for(lambda: len(s.samples) >= 3)
    meter.energy, meter.t = 8.0, 4.0
    summary = s.stop()
    assert isinstance(summary, EnergySummary)
    assert summary.energy_j == 8.0 and summary.duration_s == 4.0 and summary.mean_power_w == 2.0
    assert summary.energy_source == "measured:rapl" and summary.energy_detail == "scripted measured:rapl"
    assert summary.n_samples == len(s.samples) >= 4
    assert summary.peak_temp_c is None and summary.temp_source is None
    assert summary.paused_s == 0.0 and summary.source_changes == []
    ts = [x.t_s for x in s.samples]
    assert ts == sorted(ts)


def test_stop_is_idempotent_and_returns():
    s = Sampler(ScriptedMeter(), hz=10.0).start()
    done = threading.Event()
    threading.Thread(target=lambda: (s.stop(), done.set()), daemon=True).start()
    assert done.wait(20.0)
    assert s.stop().n_samples == len(s.samples)


def test_mid_run_failure_reaches_the_summary():
    bad = ScriptedMeter(source="measured:nvml", fail_after=2)
    good = ScriptedMeter(source="estimated:cpu-time")
    meter = FallbackMeter([bad, good])
    s = Sampler(meter, hz=0.01).start()        # read 1 (start sample)
    bad.energy = 5.0
    s.begin_window("w")                       # read 2
    good.energy = 1.5
    w = s.end_window("w")                     # read 3 fails: switch, offset 5 J
    summary = s.stop()
    assert w.energy_j == 1.5 and w.source == "estimated:cpu-time"
    assert "meter changed inside the window: measured:nvml -> estimated:cpu-time" in w.flags
    assert summary.energy_j == 6.5 and summary.energy_source == "estimated:cpu-time"
    (change,) = summary.source_changes
    assert (change["from"], change["to"], change["why"]) == ("measured:nvml", "estimated:cpu-time", "scripted: sensor gone")
    assert any("switched to estimated:cpu-time" in r for r in summary.reasons)
