"""`python -m workbench.ui.serve` (what `./workbench.sh app` runs): serve apps/workbench.ipynb with Voila.

    127.0.0.1 by default, behind a token; prints the full URL (token included) once the server
    answers. --host 0.0.0.0 (or WORKBENCH_HOST) serves a classroom. One kernel is kept
    preheated so the page is interactive fast; a kernel whose page was closed is shut down by
    the page itself (the token makes that request pass the XSRF check) or, failing that, culled
    after --cull-idle-timeout seconds. Tracebacks never reach the page.

Pin settings for a lesson with --settings FILE (JSON of workbench.settings.Settings) or a link
such as http://127.0.0.1:8866/?token=...&bits=8&prune_ratio=0.5 (the link wins).
"""
from __future__ import annotations

import argparse
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from workbench.ui.share import SETTINGS_FILE_ENV

REPO = Path(__file__).resolve().parents[2]
NOTEBOOK = REPO / "apps" / "workbench.ipynb"


@dataclass
class ServeConfig:
    host: str = "127.0.0.1"           # address to listen on; 0.0.0.0 for every interface
    port: int = 8866                  # 0 = any free port
    token: str = ""                   # "" = a random one
    settings_file: str = ""           # JSON Settings pinned for every page
    notebook: str = str(NOTEBOOK)
    preheat: bool = True              # keep one kernel started and the notebook executed
    refill_delay_s: float = 8.0       # start the next preheated kernel this long after one is used, so
                                      # its start (imports, ~2 CPU-s) does not slow the page just opened
    cull_idle_timeout_s: int = 600    # shut down kernels idle (and unconnected) this long
    cull_interval_s: int = 60         # how often to look for idle kernels
    cull_connected: bool = False      # also cull idle kernels a page is still connected to


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as s:
        s.bind((host if host not in ("0.0.0.0", "") else "", 0))
        return s.getsockname()[1]


def voila_args(cfg: ServeConfig) -> list[str]:
    """The Voila command line for this configuration."""
    return [
        sys.executable, "-m", "voila", cfg.notebook, "--no-browser",
        f"--Voila.ip={cfg.host}", f"--port={cfg.port}", f"--token={cfg.token}",
        f"--preheat_kernel={cfg.preheat}", "--pool_size=1", "--show_tracebacks=False",
        f"--VoilaKernelManager.fill_delay={cfg.refill_delay_s}",
        f"--MappingKernelManager.cull_idle_timeout={cfg.cull_idle_timeout_s}",
        f"--MappingKernelManager.cull_interval={cfg.cull_interval_s}",
        f"--MappingKernelManager.cull_connected={cfg.cull_connected}",
    ]


def kernel_env(cfg: ServeConfig) -> dict:
    """Environment of the server and so of its kernels."""
    env = dict(os.environ)
    if cfg.settings_file:
        env[SETTINGS_FILE_ENV] = str(Path(cfg.settings_file).resolve())
    # A preheated kernel asks the server for its page's URL query over this address.
    env["VOILA_APP_IP"] = "127.0.0.1" if cfg.host in ("0.0.0.0", "", "::", "localhost") else cfg.host
    env.setdefault("MPLBACKEND", "Agg")
    return env


def app_urls(cfg: ServeConfig) -> list[str]:
    """URLs to print: the loopback one, and the machine's address when serving a classroom."""
    hosts = [cfg.host]
    if cfg.host in ("0.0.0.0", "", "::"):
        hosts = ["127.0.0.1"]
        try:
            ip = socket.gethostbyname(socket.gethostname())
            if not ip.startswith("127."):
                hosts.append(ip)
        except OSError:
            pass
    return [f"http://{h}:{cfg.port}/?token={cfg.token}" for h in hosts]


def wait_until_listening(host: str, port: int, timeout_s: float, proc: subprocess.Popen | None = None) -> bool:
    host = "127.0.0.1" if host in ("0.0.0.0", "", "::") else host
    t_end = time.monotonic() + timeout_s
    while time.monotonic() < t_end:
        if proc is not None and proc.poll() is not None:
            return False
        try:
            with socket.create_connection((host, port), timeout=0.5):
                return True
        except OSError:
            time.sleep(0.1)
    return False


def start(cfg: ServeConfig, quiet: bool = True, extra_env: dict | None = None) -> subprocess.Popen:
    """Start Voila in a child process (its own process group); returns at once."""
    out = subprocess.DEVNULL if quiet else None
    return subprocess.Popen(voila_args(cfg), env={**kernel_env(cfg), **(extra_env or {})}, stdout=out, stderr=out,
                            start_new_session=True, cwd=str(Path(cfg.notebook).parent))


def stop(proc: subprocess.Popen, timeout_s: float = 10.0) -> None:
    """Ask Voila to shut down (SIGTERM to its group: it stops its kernels), then make sure."""
    if proc.poll() is not None:
        return
    try:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout_s)
    except (ProcessLookupError, subprocess.TimeoutExpired):
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        proc.wait()


def parse_args(argv: list[str] | None = None) -> ServeConfig:
    d = ServeConfig()
    p = argparse.ArgumentParser(prog="python -m workbench.ui.serve", description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--host", default=os.environ.get("WORKBENCH_HOST", d.host),
                   help="address to listen on (env WORKBENCH_HOST; 0.0.0.0 serves a classroom; default %(default)s)")
    p.add_argument("--port", type=int, default=int(os.environ.get("WORKBENCH_PORT", d.port)),
                   help="port (env WORKBENCH_PORT; 0 picks a free one; default %(default)s)")
    p.add_argument("--token", default=os.environ.get("WORKBENCH_TOKEN", ""),
                   help="access token (env WORKBENCH_TOKEN; default: a new random token)")
    p.add_argument("--settings", default="", metavar="FILE",
                   help="JSON settings file pinned for every page (a link's ?query still wins)")
    p.add_argument("--no-preheat", action="store_true",
                   help="do not keep a preheated kernel (slower first page, less memory)")
    p.add_argument("--cull-idle-timeout", type=int, default=d.cull_idle_timeout_s, metavar="S",
                   help="shut down kernels idle this many seconds (default %(default)s)")
    p.add_argument("--cull-interval", type=int, default=d.cull_interval_s, metavar="S",
                   help="seconds between checks for idle kernels (default %(default)s)")
    p.add_argument("--cull-connected", action="store_true",
                   help="also cull idle kernels whose page is still open (frees memory on a busy "
                        "classroom server; an idle open page then needs a reload)")
    p.add_argument("--notebook", default=d.notebook, help="the app notebook (default apps/workbench.ipynb)")
    p.add_argument("--print-command", action="store_true", help="print the Voila command and exit")
    a = p.parse_args(argv)
    if a.settings:
        from workbench.errors import WorkbenchError
        from workbench.settings import Settings
        try:
            Settings.from_json(Path(a.settings).read_text(encoding="utf-8"))
        except OSError as exc:
            p.error(f"--settings {a.settings}: {exc.strerror}")
        except WorkbenchError as exc:
            p.error(f"--settings {a.settings}: {exc}")
    port = a.port if a.port else free_port(a.host)
    return ServeConfig(host=a.host, port=port, token=a.token or secrets.token_urlsafe(18), settings_file=a.settings,
                       notebook=a.notebook, preheat=not a.no_preheat, cull_idle_timeout_s=a.cull_idle_timeout,
                       cull_interval_s=a.cull_interval, cull_connected=a.cull_connected)


def main(argv: list[str] | None = None) -> int:
    cfg = parse_args(argv)
    if "--print-command" in (argv if argv is not None else sys.argv[1:]):
        print(" ".join(voila_args(cfg)))
        return 0
    proc = start(cfg, quiet=False)
    # `kill` (SIGTERM) must stop Voila too: it runs in its own session and would outlive us.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    try:
        if not wait_until_listening(cfg.host, cfg.port, 60.0, proc):
            print(f"Voila did not start on {cfg.host}:{cfg.port} (is the port in use? try --port 0)", file=sys.stderr)
            stop(proc)
            return 1
        print("\nGreen LLM Workbench is ready. Open:", flush=True)
        for url in app_urls(cfg):
            print(f"    {url}", flush=True)
        print("Press Ctrl+C to stop.\n", flush=True)
        return proc.wait()
    except KeyboardInterrupt:
        return 0
    finally:
        stop(proc)


if __name__ == "__main__":
    sys.exit(main())
