"""Meters: RAPL on a fake powercap tree, NVML through a fake pynvml, the CPU-time estimate,
and the fallback chain (at selection and mid-run)."""
import subprocess
import sys

import pytest

from fakes import fake_pynvml
from fakes.powercap import intel_laptop, set_energy, zone
from workbench.energy import cpu_power, rapl
from workbench.energy.estimated import CpuTimeMeter
from workbench.energy.meter import source_kind, weakest_source
from workbench.energy.nvml import NvmlMeter, gpu_indices
from workbench.energy.select import FallbackMeter, make_meter, meter_chain
from workbench.errors import MeterError


class FakeClock:
    def __init__(self):
        self.t = 0.0

    def __call__(self):
        return self.t


@pytest.fixture
def no_sensors(monkeypatch, tmp_path):
    """No powercap tree and no NVML, whatever the machine has."""
    monkeypatch.setenv("WORKBENCH_POWERCAP_ROOT", str(tmp_path / "no-powercap"))
    monkeypatch.setitem(sys.modules, "pynvml", fake_pynvml.make_module([], init_error=fake_pynvml.NVMLError_LibraryNotFound))


# -- labels ---------------------------------------------------------------------------------
def test_source_kind_and_weakest():
    assert source_kind("measured:rapl") == "MEASURED"
    assert weakest_source(["measured:nvml", "estimated:cpu-time"]) == "estimated:cpu-time"
    assert weakest_source(["modelled:thermal-rc", "measured:hwmon"]) == "modelled:thermal-rc"


# -- RAPL -----------------------------------------------------------------------------------
def test_unwrap_delta_exact():
    assert rapl.unwrap_delta(700, 200, 1000) == 500
    assert rapl.unwrap_delta(100, 900, 1000) == 201     # 900 -> 1000 -> 0 -> 100
    assert rapl.unwrap_delta(0, 1000, 1000) == 1


def test_rapl_domains_skip_contained_psys_and_duplicates(tmp_path):
    meter = rapl.RaplMeter(intel_laptop(tmp_path))
    assert [(d.path.name, d.name) for d in meter.domains] == [("intel-rapl:0", "package-0"), ("intel-rapl:0:2", "dram")]
    skipped = " ".join(meter.skipped)
    assert "intel-rapl:0:0 (core): contained" in skipped and "intel-rapl:1 (psys): contains" in skipped
    assert "intel-rapl-mmio:0 (package-0): duplicate" in skipped
    assert meter.source == "measured:rapl"


def test_rapl_energy_exact_across_wraparound(tmp_path):
    root = intel_laptop(tmp_path)
    meter = rapl.RaplMeter(root)
    meter.start()
    set_energy(root, "intel-rapl:0", 500)        # wrapped: 1_000_000 - 999_000 + 1 + 500 = 1501 uJ
    set_energy(root, "intel-rapl:0:2", 450)      # 350 uJ
    set_energy(root, "intel-rapl:0:0", 999_999)  # core is inside the package: must not count
    assert meter.read().energy_j == 1851 / 1e6
    set_energy(root, "intel-rapl:0", 400_500)    # +400_000
    set_energy(root, "intel-rapl:0:2", 50)       # wrapped again: 500 - 450 + 1 + 50 = 101
    r = meter.read()
    assert r.energy_j == (1851 + 400_000 + 101) / 1e6
    assert r.source == "measured:rapl" and r.power_w is not None and r.power_w > 0


def test_rapl_amd_two_packages(tmp_path):
    zone(tmp_path, "amd-rapl:0", "package-0", 10, 2**32 - 1)
    zone(tmp_path, "amd-rapl:1", "package-1", 20, 2**32 - 1)
    meter = rapl.RaplMeter(tmp_path)
    meter.start()
    set_energy(tmp_path, "amd-rapl:0", 1_000_010)
    set_energy(tmp_path, "amd-rapl:1", 2_000_020)
    assert meter.read().energy_j == 3.0


def test_rapl_root_only_message(tmp_path):
    root = intel_laptop(tmp_path)

    def reader(path):
        if path.name == "energy_uj":
            raise PermissionError(13, "Permission denied", str(path))
        return rapl.read_text(path)

    with pytest.raises(MeterError) as err:
        rapl.RaplMeter(root, reader=reader)
    msg = str(err.value)
    assert "intel-rapl:0/energy_uj is readable by root only" in msg
    assert "sudo chmod o+r /sys/class/powercap/*/energy_uj" in msg and "\n" not in msg


def test_rapl_missing_tree_message(tmp_path):
    with pytest.raises(MeterError, match="does not exist"):
        rapl.RaplMeter(tmp_path / "nothing")
    (tmp_path / "empty").mkdir()
    with pytest.raises(MeterError, match="no intel-rapl/amd-rapl zones"):
        rapl.RaplMeter(tmp_path / "empty")


def test_auto_cpu_falls_back_with_permission_reason(tmp_path, monkeypatch):
    intel_laptop(tmp_path)
    monkeypatch.setenv("WORKBENCH_POWERCAP_ROOT", str(tmp_path))
    real = rapl.read_text

    def root_only(path):
        if path.name == "energy_uj":
            raise PermissionError(13, "Permission denied", str(path))
        return real(path)

    monkeypatch.setattr(rapl, "read_text", root_only)
    meter = make_meter("auto", "cpu")
    assert meter.source == "estimated:cpu-time"
    assert len(meter.reasons) == 1
    assert meter.reasons[0].startswith(f"RAPL: {tmp_path}/intel-rapl:0/energy_uj is readable by root only; grant access")
    assert meter.reasons[0].endswith("— falling back to estimated:cpu-time")


def test_auto_cpu_uses_rapl_when_readable(tmp_path, monkeypatch):
    intel_laptop(tmp_path)
    monkeypatch.setenv("WORKBENCH_POWERCAP_ROOT", str(tmp_path))
    meter = make_meter("auto", "cpu")
    assert meter.source == "measured:rapl" and meter.reasons == []


def test_rapl_file_vanishes_mid_run(tmp_path):
    root = intel_laptop(tmp_path)
    meter = FallbackMeter([rapl.RaplMeter(root), CpuTimeMeter(core_watts=5.0)])
    meter.start()
    set_energy(root, "intel-rapl:0", 1_000)    # wrapped: 1_000_000 - 999_000 + 1 + 1_000 = 2001 uJ
    before = meter.read().energy_j
    assert before == 2001 / 1e6
    (root / "intel-rapl:0" / "energy_uj").unlink()
    after = meter.read()
    assert after.source == "estimated:cpu-time"
    assert after.energy_j >= before
    (change,) = meter.source_changes
    assert change["from"] == "measured:rapl" and change["to"] == "estimated:cpu-time"
    assert "vanished" in change["why"]
    assert "switched to estimated:cpu-time" in meter.reasons[-1]


def test_rapl_garbage_is_a_meter_error(tmp_path):
    root = intel_laptop(tmp_path)
    meter = rapl.RaplMeter(root)
    meter.start()
    (root / "intel-rapl:0" / "energy_uj").write_text("garbage\n")
    with pytest.raises(MeterError, match="not an integer"):
        meter.read()


# -- NVML -----------------------------------------------------------------------------------
def install(monkeypatch, gpus, **kw):
    nv = fake_pynvml.make_module(gpus, **kw)
    monkeypatch.setitem(sys.modules, "pynvml", nv)
    return nv


def test_nvml_energy_counter_two_gpus(monkeypatch):
    a = fake_pynvml.FakeGpu(energy_mj=5_000, power_mw=250_000, temp_c=61)
    b = fake_pynvml.FakeGpu(energy_mj=90_000, power_mw=150_000, temp_c=74)
    install(monkeypatch, [a, b])
    meter = NvmlMeter("cuda")
    assert meter.has_counter == [True, True]
    assert meter.power_limits_w == [700.0, 700.0]
    meter.start()
    a.energy_mj += 1_500
    b.energy_mj += 2_250
    r = meter.read()
    assert r.energy_j == 3.75                 # (1500 + 2250) mJ
    assert r.power_w == 400.0                 # NVML's own power, summed
    assert r.temp_c == 74.0 and r.temp_source == "measured:nvml"
    assert r.source == "measured:nvml"
    assert any("100 ms" in f for f in meter.flags)
    assert meter.partial_power and any("25 ms" in f for f in meter.flags)


def test_nvml_power_polling_on_old_gpu(monkeypatch):
    old = fake_pynvml.FakeGpu(name="Tesla P4", energy_mj=None, power_mw=100_000)
    install(monkeypatch, [old])
    meter = NvmlMeter("cuda:0")
    clock = FakeClock()
    meter.clock = clock
    assert meter.has_counter == [False] and not meter.partial_power
    meter.start()
    clock.t, old.power_mw = 1.0, 200_000
    assert meter.read().energy_j == 150.0     # trapezoid: (100 + 200) / 2 W × 1 s
    clock.t = 3.0
    assert meter.read().energy_j == 550.0     # + 200 W × 2 s
    assert any("power polled" in f for f in meter.flags)
    with pytest.raises(MeterError, match="no energy counter"):
        NvmlMeter("cuda", mode="counter")


def test_nvml_missing_library_falls_back(monkeypatch):
    install(monkeypatch, [], init_error=fake_pynvml.NVMLError_LibraryNotFound)
    meter = make_meter("auto", "cuda")
    assert meter.source == "estimated:cpu-time"
    assert meter.reasons[0].startswith("NVML: cannot initialise (NVMLError_LibraryNotFound")
    assert "GPU's energy is not included" in meter.detail
    with pytest.raises(MeterError, match="NVML: cannot initialise"):
        make_meter("nvml", "cuda", strict=True)


def test_nvml_error_mid_run_switches_and_keeps_energy(monkeypatch):
    gpu = fake_pynvml.FakeGpu(energy_mj=0)
    nv = install(monkeypatch, [gpu])
    meter = make_meter("auto", "cuda:0", core_watts=5.0)
    assert meter.source == "measured:nvml" and meter.reasons == []
    meter.start()
    gpu.energy_mj = 12_000
    assert meter.read().energy_j == 12.0
    gpu.fail = fake_pynvml.NVMLError_GpuIsLost
    r = meter.read()
    assert r.source == "estimated:cpu-time" and r.energy_j >= 12.0
    (change,) = meter.source_changes
    assert change["from"] == "measured:nvml" and change["to"] == "estimated:cpu-time"
    assert "NVMLError_GpuIsLost" in change["why"]
    assert nv.calls["shutdown"] == 1            # the lost meter was closed
    assert meter.read().energy_j >= r.energy_j  # and the estimate goes on from the offset


def test_gpu_indices(monkeypatch):
    monkeypatch.delenv("CUDA_VISIBLE_DEVICES", raising=False)
    assert gpu_indices("cuda", 3) == [0, 1, 2] and gpu_indices("cuda:2", 3) == [2]
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "2,0")
    assert gpu_indices("cuda", 3) == [2, 0] and gpu_indices("cuda:0", 3) == [2]
    with pytest.raises(MeterError, match="valid: cuda, cuda:0, cuda:1"):
        gpu_indices("cuda:5", 3)


# -- the estimate ---------------------------------------------------------------------------
BURN = "import time\nt = time.process_time()\nwhile time.process_time() - t < 0.5: pass\nprint(time.process_time())"


def test_estimate_counts_an_exited_child(no_sensors):
    meter = make_meter("auto", "cpu", core_watts=4.0)
    assert meter.source == "estimated:cpu-time"
    assert meter.reasons[0].startswith("RAPL: ") and meter.reasons[0].endswith("falling back to estimated:cpu-time")
    meter.start()
    out = subprocess.run([sys.executable, "-c", BURN], capture_output=True, text=True, check=True)
    child_cpu = float(out.stdout)
    r = meter.read()
    assert child_cpu >= 0.5
    assert r.energy_j >= 0.98 * child_cpu * 4.0   # tick rounding of /proc times: 2 % slack
    assert "× 4 W/core (set by the user (core_watts))" in meter.detail


def test_estimate_resolves_windows_shorter_than_a_clock_tick(no_sensors):
    """3 ms of CPU is seen as 3 ms, not as 0 or 10 ms (/proc's clock ticks): short windows are measured."""
    import time
    meter = CpuTimeMeter(core_watts=1.0)
    meter.start()
    deltas = []
    for _ in range(20):
        e0, c0 = meter.read().energy_j, time.process_time()
        while time.process_time() - c0 < 0.003:
            pass
        deltas.append(meter.read().energy_j - e0)          # J at 1 W/core = CPU seconds
    assert all(d >= 0.0029 for d in deltas), deltas
    assert sorted(deltas)[10] < 0.0095, deltas             # ticks would read 0 or 0.01, never 0.003


def test_estimate_follows_a_running_child_then_its_exit(no_sensors):
    meter = CpuTimeMeter(core_watts=2.0)
    meter.start()
    child = subprocess.Popen([sys.executable, "-c", BURN], stdout=subprocess.PIPE, text=True)
    readings = []
    while child.poll() is None:
        readings.append(meter.read().energy_j)
    child_cpu = float(child.stdout.read())
    readings.append(meter.read().energy_j)
    child.stdout.close()
    assert readings == sorted(readings)           # never falls
    assert readings[-1] >= 0.98 * child_cpu * 2.0


def test_cpu_power_table():
    assert cpu_power.lookup("AMD EPYC 7B13").w_per_core == 225 / 64
    assert cpu_power.lookup("AMD EPYC 7763 64-Core Processor").tdp_w == 280
    assert cpu_power.lookup("11th Gen Intel(R) Core(TM) i7-1165G7 @ 2.80GHz").w_per_core == 7.0
    assert cpu_power.lookup("Intel(R) Xeon(R) Gold 6248 CPU @ 2.50GHz").w_per_core == 7.5
    assert cpu_power.lookup("Apple M2").label == "Apple M-series"
    w, why = cpu_power.per_core_watts(0.0, "Some Future CPU 9000")
    assert w == cpu_power.DEFAULT_W_PER_CORE and "not in the cpu_power table" in why
    assert cpu_power.per_core_watts(12.5, "AMD EPYC") == (12.5, "set by the user (core_watts)")
    for row in cpu_power.TABLE:
        assert row.tdp_w > 0 and row.cores > 0 and row.source


def test_estimated_detail_names_formula_and_row():
    meter = CpuTimeMeter(model_name="AMD EPYC 7B13")
    assert meter.detail == ("E = CPU-seconds of the process tree × 3.52 W/core (AMD EPYC 7B13: 225 W TDP / 64 cores, "
                            "cpu_power table row 'AMD EPYC 7B12/7B13')")


# -- selection ------------------------------------------------------------------------------
def test_chains_and_bad_kind():
    assert meter_chain("auto", "cuda:1") == ["nvml", "estimated"]
    assert meter_chain("auto", "cpu") == ["rapl", "estimated"]
    assert meter_chain("estimated", "cuda") == ["estimated"]
    with pytest.raises(MeterError, match="choose one of auto, nvml, rapl, estimated"):
        make_meter("pyrapl")


def test_explicit_estimated_has_no_reasons(no_sensors):
    meter = make_meter("estimated", "cpu")
    assert meter.source == "estimated:cpu-time" and meter.reasons == []


def test_every_meter_failing_is_one_error():
    class Broken(CpuTimeMeter):
        def _energy_j(self):
            raise OSError("gone")

    meter = FallbackMeter([Broken(core_watts=1.0)])
    meter.start()
    with pytest.raises(MeterError, match="every meter failed, last: gone"):
        meter.read()
