"""How responsive the web app is in a real browser (Voila + Debian chromium via Playwright).

Measures, interleaved trial by trial:
  * time to interactive: page request -> Run button enabled and the live figure loaded,
    on a server without a preheated kernel (cold) and on one with a preheated kernel;
  * Run click -> first live point: the click -> the first sample drawn (the readout appears);
  * live updates per second: changes of the live figure's image during a run.
Prints medians and the goals (<= 5 s cold, <= 3 s preheated, <= 0.5 s to the first point,
>= 5 updates/s). Run: .venv/bin/python benchmarks/app_responsiveness.py [--quick]
"""
from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from workbench.ui import serve  # noqa: E402

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
GOALS = {"tti_cold_s": ("<=", 5.0), "tti_preheated_s": ("<=", 3.0), "first_point_s": ("<=", 0.5),
         "updates_per_s": (">=", 5.0)}


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--trials", type=int, default=5, help="page loads per server kind (default %(default)s)")
    p.add_argument("--run-seconds", type=float, default=6.0,
                   help="seconds of a run over which live updates are counted (default %(default)s)")
    p.add_argument("--workload", default="lstm", help="workload of the live run (tiny mode; default %(default)s)")
    p.add_argument("--refill-s", type=float, default=22.0,
                   help="seconds to let the preheated pool refill between preheated page loads (default %(default)s)")
    p.add_argument("--settle-s", type=float, default=6.0,
                   help="pause after closing the cold page, so its kernel's shutdown does not load the "
                        "preheated trial (default %(default)s)")
    p.add_argument("--quick", action="store_true", help="2 trials, 4 s runs: a smoke run of the benchmark")
    a = p.parse_args(argv)
    if a.quick:
        a.trials, a.run_seconds = 2, 4.0
    return a


def page_url(cfg, query: str) -> str:
    return f"http://127.0.0.1:{cfg.port}/?token={cfg.token}&{query}"


def open_and_time(browser, cfg, query: str):
    """Open the app; seconds until the Run button is enabled and the live figure has loaded."""
    page = browser.new_page(viewport={"width": 1600, "height": 1000})
    page.set_default_timeout(120_000)
    t0 = time.perf_counter()
    page.goto(page_url(cfg, query))
    page.wait_for_selector("button.wb-run:not([disabled])")
    page.wait_for_function("(() => { const i = document.querySelector('img.wb-live-plot');"
                           " return i && i.complete && i.naturalWidth > 0; })()")
    return page, time.perf_counter() - t0


def run_and_time(page, run_seconds: float) -> tuple[float, float]:
    """Click Run; seconds to the first live point; then image updates per second over run_seconds."""
    page.evaluate("""() => {
        const img = document.querySelector('img.wb-live-plot');
        window.__changes = [];
        new MutationObserver(() => window.__changes.push(performance.now()))
            .observe(img, {attributes: true, attributeFilter: ['src']});
    }""")
    t0 = time.perf_counter()
    page.locator("button.wb-run").click()
    page.locator(".wb-readout").get_by_text("energy so far").wait_for()
    first = time.perf_counter() - t0
    n0 = page.evaluate("window.__changes.length")
    page.wait_for_timeout(run_seconds * 1000)
    n1 = page.evaluate("window.__changes.length")
    page.locator("button.wb-stop").click()
    page.wait_for_function("document.querySelector('.wb-status-line').innerText.startsWith('Stopped')")
    return first, (n1 - n0) / run_seconds


def main(argv=None) -> int:
    args = parse_args(argv)
    if not Path(CHROMIUM).exists():
        print(f"{CHROMIUM} is missing: apt-get install chromium")
        return 1
    from playwright.sync_api import sync_playwright
    data = tempfile.mkdtemp(prefix="workbench-bench-")
    env = {"WORKBENCH_DATA_DIR": data}
    cold = serve.ServeConfig(port=serve.free_port(), token="bench", preheat=False)
    warm = serve.ServeConfig(port=serve.free_port(), token="bench", preheat=True)
    procs = [serve.start(cold, extra_env=env), serve.start(warm, extra_env=env)]
    query = f"workload={args.workload}&tiny=1&steps=1000000"
    out = {k: [] for k in GOALS}
    try:
        for cfg, proc in ((cold, procs[0]), (warm, procs[1])):
            if not serve.wait_until_listening(cfg.host, cfg.port, 60.0, proc):
                print("voila did not start")
                return 1
        time.sleep(args.refill_s)                      # the first preheated kernel
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
            for trial in range(args.trials):
                page, tti = open_and_time(browser, cold, query)
                out["tti_cold_s"].append(tti)
                page.close(run_before_unload=True)
                t_ready = time.perf_counter()
                time.sleep(args.settle_s)
                page, tti = open_and_time(browser, warm, query)
                out["tti_preheated_s"].append(tti)
                first, rate = run_and_time(page, args.run_seconds)
                out["first_point_s"].append(first)
                out["updates_per_s"].append(rate)
                page.close(run_before_unload=True)
                print(f"trial {trial + 1}: cold {out['tti_cold_s'][-1]:.2f} s · preheated {tti:.2f} s · "
                      f"first point {first:.3f} s · {rate:.1f} updates/s", flush=True)
                time.sleep(max(0.0, args.refill_s - (time.perf_counter() - t_ready)))
            browser.close()
    finally:
        for p in procs:
            serve.stop(p)
    print("\nmedians over", args.trials, "trials")
    for key, values in out.items():
        op, goal = GOALS[key]
        med = statistics.median(values)
        ok = med <= goal if op == "<=" else med >= goal
        print(f"  {key:16s} {med:8.3f}   goal {op} {goal:g}   {'met' if ok else 'NOT met'}")
    print(f"  preheated / cold time to interactive: {statistics.median(out['tti_preheated_s']) / statistics.median(out['tti_cold_s']):.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
