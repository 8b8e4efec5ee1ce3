"""The dashboard served by its own process: ``streamlit run dashboard.py`` on a free local port,
reading a given store (and accounts file), for the browser tests (tests/test_browser.py and the
other *_browser.py) and the benchmark's browser step (bench/sweep.py)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).parent.parent
START_TIMEOUT_S = 60
# A browser for the served app: Debian's chromium, never a downloaded one.
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]
# The app's script has finished its run (the page is drawn, no rerun pending).
IDLE = '[data-testid="stApp"][data-test-script-state="notRunning"]'


class ServerError(RuntimeError):
    """The served dashboard exited or did not answer in time; the message ends with its log."""


def stop(process: subprocess.Popen) -> None:
    """Ask a served process to end; kill it when it has not within 10 s."""
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until_healthy(url: str, process: subprocess.Popen, log: Path, timeout_s: float = START_TIMEOUT_S) -> None:
    """Poll /_stcore/health until it answers "ok"; raise ServerError early if the server exits."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise ServerError(f"streamlit exited with {process.returncode}:\n{log.read_text(encoding='utf-8')}")
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as answer:
                if answer.read() == b"ok":
                    return
        except OSError:
            time.sleep(0.1)  # not listening yet: poll again
    raise ServerError(f"streamlit did not answer within {timeout_s:g} s:\n{log.read_text(encoding='utf-8')}")


@contextmanager
def serve(store: Path | str, log: Path, accounts: Path | str | None = None, *, env: dict[str, str] | None = None,
          start_timeout_s: float = START_TIMEOUT_S) -> Iterator[str]:
    """`streamlit run dashboard.py` on a free port, reading ``store`` (a DuckDB file or a
    postgresql:// URL, IPMON_DB) (and the accounts file
    ``accounts``, else the caller's IPMON_ACCOUNTS), with this process's environment and ``env``
    on top, its output written to ``log``; yields its URL."""
    if store is None or str(store) in ("", "None"):  # str(None) would be a DuckDB file named None
        raise ValueError(f"no store to serve: {store!r}")
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    command = [sys.executable, "-m", "streamlit", "run", "dashboard.py", "--server.headless", "true",
               "--server.port", str(port), "--server.address", "127.0.0.1", "--browser.gatherUsageStats", "false",
               # Other people edit the sources while it runs: the served app must not react to that.
               "--server.fileWatcherType", "none"]
    with log.open("w", encoding="utf-8") as out:
        served_env = {**os.environ, "IPMON_DB": str(store), **({"IPMON_ACCOUNTS": str(accounts)} if accounts else {}),
                      **(env or {})}
        process = subprocess.Popen(command, cwd=ROOT, env=served_env, stdout=out, stderr=subprocess.STDOUT)
    try:
        wait_until_healthy(url, process, log, start_timeout_s)
        yield url
    finally:
        stop(process)
