"""The app in a real browser: Voila on a free port, Debian's chromium driven by pytest-playwright.

Screenshots of each state go to test-artifacts/screenshots/. Skipped when /usr/bin/chromium is
missing (`./workbench.sh test` installs it). No timed assertions: every wait is bounded and a timeout is
a failure of the behaviour, not of speed.
"""
from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
SHOTS = Path(__file__).resolve().parents[1] / "test-artifacts" / "screenshots"
TOKEN = "browser-test-token"
VIEWPORT = {"width": 1600, "height": 1000}
WAIT_MS = 90_000   # generous: a shared 2-core machine can be slow; a hang still fails

pytestmark = [pytest.mark.browser,
              pytest.mark.skipif(not Path(CHROMIUM).exists(), reason=f"{CHROMIUM} is missing (apt-get install chromium)")]


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    return {**browser_type_launch_args, "executable_path": CHROMIUM, "args": CHROMIUM_ARGS, "headless": True}


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """Voila serving the app with short kernel culling, on a free port, with its own ledger."""
    from workbench.ui import serve
    data = tmp_path_factory.mktemp("browser-data")
    cfg = serve.ServeConfig(port=serve.free_port(), token=TOKEN, cull_idle_timeout_s=5, cull_interval_s=2)
    proc = serve.start(cfg, quiet=True, extra_env={"WORKBENCH_DATA_DIR": str(data)})
    try:
        assert serve.wait_until_listening(cfg.host, cfg.port, 60.0, proc), "voila did not start"
        yield cfg
    finally:
        serve.stop(proc)


def kernel_exists(cfg, kernel_id: str) -> bool:
    """Voila answers GET /api/kernels/<id> (with the token) for a running kernel, 404 otherwise."""
    import urllib.error
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{cfg.port}/api/kernels/{kernel_id}?token={cfg.token}",
                                    timeout=10) as r:
            return json.load(r)["id"] == kernel_id
    except urllib.error.HTTPError as exc:
        if exc.code == 404:
            return False
        raise


def open_app(browser, cfg, query: str = ""):
    page = browser.new_page(viewport=VIEWPORT)
    page.set_default_timeout(WAIT_MS)
    page.goto(f"http://127.0.0.1:{cfg.port}/?token={cfg.token}{'&' + query if query else ''}")
    page.wait_for_selector("img.wb-live-plot")
    page.wait_for_selector("button.wb-run:not([disabled])")
    return page


def shot(page, name: str) -> None:
    """The whole app: the window is made as tall as the app for the picture, then restored."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    height = int(page.evaluate("document.querySelector('.wb-app').getBoundingClientRect().bottom")) + 40
    page.set_viewport_size({"width": VIEWPORT["width"], "height": max(VIEWPORT["height"], height)})
    page.wait_for_timeout(300)                            # let the layout settle
    page.screenshot(path=str(SHOTS / name))
    page.set_viewport_size(VIEWPORT)


@pytest.fixture(scope="module")
def app_page(browser, server):
    # tiny LSTM with many steps: it runs until Stop
    page = open_app(browser, server, "workload=lstm&tiny=1&steps=5000")
    yield page
    page.close()


def status(page) -> str:
    return page.locator(".wb-status-line").inner_text()


def test_page_renders_with_tabs_and_pinned_settings(app_page):
    for title in ("Live run", "Results", "Energy model", "Formulas"):
        assert app_page.get_by_text(title, exact=True).first.is_visible()
    app_page.wait_for_function("document.querySelector('.wb-steps input').value === '5000'")
    assert "Settings from the link" in status(app_page)
    shot(app_page, "01-live-idle.png")


def test_slider_moves_with_keyboard(app_page):
    handle = app_page.locator(".wb-bits .noUi-handle")
    readout = app_page.locator(".wb-bits .widget-readout")
    assert readout.inner_text().strip() == "32 (fp32)"
    handle.focus()
    for _ in range(3):                                    # 32 -> 16 -> 15 -> 14 (Settings allow 1-16 or 32)
        handle.press("ArrowLeft")
    app_page.wait_for_function("document.querySelector('.wb-bits .widget-readout').innerText.trim() === '14'")
    app_page.wait_for_function("document.querySelector('.wb-share input').value.includes('bits=14')")
    handle.press("End")
    app_page.wait_for_function("document.querySelector('.wb-bits .widget-readout').innerText.trim() === '32 (fp32)'")


def test_bad_combination_shows_its_message(app_page):
    handle = app_page.locator(".wb-t-min .noUi-handle")
    handle.focus()
    handle.press("End")                                   # t_min 120 °C > t_max 85 °C
    msg = app_page.locator(".wb-message")
    msg.get_by_text("t_min_c must be below t_max_c").wait_for()
    shot(app_page, "02-refused.png")
    readout = app_page.locator(".wb-t-min .widget-readout")   # readouts take typed values
    readout.click()
    app_page.keyboard.press("Control+A")
    app_page.keyboard.type("60")
    app_page.keyboard.press("Enter")
    app_page.wait_for_function("document.querySelector('.wb-t-min .widget-readout').innerText.trim() === '60'")
    app_page.wait_for_function("document.querySelector('.wb-message').innerText.trim() === ''")


def test_run_updates_the_plots_and_stop_stops_it(app_page):
    app_page.evaluate("""() => {
        const img = document.querySelector('img.wb-live-plot');
        window.__srcs = new Set();
        new MutationObserver(() => window.__srcs.add(img.src)).observe(img, {attributes: true, attributeFilter: ['src']});
    }""")
    app_page.locator("button.wb-run").click()
    app_page.wait_for_function("window.__srcs.size >= 6")          # the plots changed several times
    app_page.locator(".wb-readout").get_by_text("energy so far").wait_for()
    app_page.wait_for_function("document.querySelector('.wb-status-line').innerText.startsWith('Running: step')"
                               " && !document.querySelector('.wb-status-line').innerText.startsWith('Running: step 0/')")
    shot(app_page, "03-running.png")
    app_page.locator("button.wb-stop").click()
    app_page.wait_for_function("document.querySelector('.wb-status-line').innerText.startsWith('Stopped: run')")
    assert app_page.locator("button.wb-run").is_enabled()
    shot(app_page, "04-stopped.png")


def test_other_tabs_render(app_page):
    app_page.get_by_text("Results", exact=True).first.click()
    app_page.get_by_text("Download the ledger as CSV").wait_for()
    assert app_page.locator(".wb-table table").first.is_visible()
    shot(app_page, "05-results.png")
    app_page.get_by_text("Energy model", exact=True).first.click()
    app_page.get_by_text("FLOP²/J").first.wait_for()
    shot(app_page, "06-energy-model.png")
    app_page.get_by_text("Formulas", exact=True).first.click()
    app_page.get_by_text("From the sigmoid to a gradient step").wait_for()
    app_page.wait_for_function("(() => { const i = document.querySelector('img.wb-formula-plot');"
                               " return i && i.complete && i.naturalWidth > 0; })()")
    shot(app_page, "07-formulas.png")


def test_closing_the_tab_frees_its_kernel(browser, server):
    sockets = []
    page = browser.new_page(viewport=VIEWPORT)
    page.on("websocket", lambda ws: sockets.append(ws.url))
    page.set_default_timeout(WAIT_MS)
    page.goto(f"http://127.0.0.1:{server.port}/?token={server.token}")
    page.wait_for_selector("button.wb-run:not([disabled])")
    ids = {u.split("/api/kernels/")[1].split("/")[0] for u in sockets if "/api/kernels/" in u}
    assert len(ids) == 1, sockets
    kernel_id = ids.pop()
    assert kernel_exists(server, kernel_id)
    page.close(run_before_unload=True)                   # as a user closing the tab
    # gone by the page's shutdown request on unload, else culled after 5 s idle (checked every 2 s)
    deadline = time.monotonic() + 40
    while kernel_exists(server, kernel_id) and time.monotonic() < deadline:
        time.sleep(0.5)
    assert not kernel_exists(server, kernel_id)
