"""Several dashboard processes behind Debian's nginx, on free local ports: the deployment of
docs/deploy/ipmon-nginx.conf (its own text, with this run's ports) for the replica browser test
(tests/test_replicas_browser.py) and the load test (devtools/loadtest.py).

    python -m devtools.replicas --count 2 --db /tmp/demo.duckdb   # serves until Ctrl-C
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import signal
import subprocess
import time
import urllib.request
from collections import defaultdict
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

from devtools.serving import START_TIMEOUT_S, ServerError, free_port, serve, stop

ROOT = Path(__file__).parent.parent
SITE = ROOT / "docs" / "deploy" / "ipmon-nginx.conf"
NGINX = "/usr/sbin/nginx"
# One line per request: the key a browser is hashed on, the process that answered, the request.
LOG_FORMAT = "'$ipmon_replica_key $upstream_addr $status \"$request\"'"


@dataclass(frozen=True)
class Deployment:
    """nginx's URL, each process's own URL (in the order of nginx's server lines), and nginx's log."""

    url: str
    replicas: tuple[str, ...]
    access_log: Path

    def routes(self) -> dict[str, set[str]]:
        """Which processes answered each browser (by its ipmon_replica cookie), as host:port."""
        seen: dict[str, set[str]] = defaultdict(set)
        for line in self.access_log.read_text(encoding="utf-8").splitlines():
            key, upstream = line.split(" ", 2)[:2]
            if upstream != "-":
                seen[key].add(upstream)
        return dict(seen)


def site_config(listen_port: int, replica_ports: list[int]) -> str:
    """docs/deploy/ipmon-nginx.conf with its server lines and listening port replaced."""
    text = SITE.read_text(encoding="utf-8")
    servers = "".join(f"    server 127.0.0.1:{port};\n" for port in replica_ports)
    text, upstreams = re.subn(r"(upstream ipmon_dashboard \{\n    hash [^\n]+\n)(    server [^\n]+\n)+",
                              lambda m: m.group(1) + servers, text)
    text, listens = re.subn(r"listen 80;", f"listen 127.0.0.1:{listen_port};", text)
    if (upstreams, listens) != (1, 1):
        raise ValueError(f"{SITE.name}: expected one upstream block and one `listen 80;`")
    return text


def main_config(folder: Path, site: Path, access_log: Path) -> str:
    """nginx's main file for a throw-away instance whose every file lives in ``folder``."""
    temp = "\n".join(f"    {name}_temp_path {folder / name};" for name in
                     ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
    user = "user root;\n" if os.geteuid() == 0 else ""  # workers must reach the run's folder
    return (f"{user}worker_processes 1;\npid {folder / 'nginx.pid'};\nerror_log {folder / 'error.log'} warn;\n"
            f"events {{ worker_connections 512; }}\n"
            f"http {{\n    log_format ipmon_replicas {LOG_FORMAT};\n"
            f"    access_log {access_log} ipmon_replicas;\n{temp}\n    include {site};\n}}\n")


@contextmanager
def nginx(folder: Path, replica_ports: list[int], timeout_s: float = START_TIMEOUT_S) -> Iterator[tuple[str, Path]]:
    """Debian's nginx in front of ``replica_ports``, on a free port; yields its URL and access log."""
    if not Path(NGINX).exists():
        raise ServerError(f"{NGINX} is missing: scripts/setup.sh --dev installs Debian's nginx")
    folder.mkdir(parents=True, exist_ok=True)
    port = free_port()
    site, conf, access_log = folder / "site.conf", folder / "nginx.conf", folder / "access.log"
    site.write_text(site_config(port, replica_ports), encoding="utf-8")
    conf.write_text(main_config(folder, site, access_log), encoding="utf-8")
    access_log.touch()
    command = [NGINX, "-p", str(folder), "-e", str(folder / "error.log"), "-c", str(conf), "-g", "daemon off;"]
    with (folder / "nginx.out").open("w", encoding="utf-8") as out:
        process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + timeout_s
        while True:
            if process.poll() is not None:
                raise ServerError(f"nginx exited with {process.returncode}:\n"
                                  + (folder / "nginx.out").read_text(encoding="utf-8")
                                  + (folder / "error.log").read_text(encoding="utf-8"))
            try:
                with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as answer:
                    if answer.read() == b"ok":
                        break
            except OSError:
                if time.monotonic() > deadline:
                    raise ServerError(f"nginx did not answer within {timeout_s:g} s") from None
                time.sleep(0.1)  # not listening yet: poll again
        yield url, access_log
    finally:
        stop(process)


@contextmanager
def deploy(store: Path | str, count: int, folder: Path, accounts: Path | str | None = None, *,
           env: dict[str, str] | None = None) -> Iterator[Deployment]:
    """``count`` dashboard processes on ``store`` (a DuckDB file or a postgresql:// URL, IPMON_DB)
    and ``accounts`` (else the caller's IPMON_ACCOUNTS), each logging to ``folder``/replica-N.log,
    behind nginx; yields the deployment."""
    folder.mkdir(parents=True, exist_ok=True)
    with ExitStack() as stack:
        urls = [stack.enter_context(serve(store, folder / f"replica-{n}.log", accounts, env=env))
                for n in range(1, count + 1)]
        ports = [int(u.rsplit(":", 1)[1]) for u in urls]
        url, access_log = stack.enter_context(nginx(folder / "nginx", ports))
        yield Deployment(url, tuple(urls), access_log)


def main() -> None:
    parser = argparse.ArgumentParser(description="several dashboard processes behind nginx, until Ctrl-C")
    parser.add_argument("--count", type=int, default=2)
    parser.add_argument("--db", required=True, help="the store: a DuckDB file or a postgresql:// URL")
    parser.add_argument("--folder", type=Path, default=Path("/tmp/ipmon-replicas"), help="logs and nginx's files")
    args = parser.parse_args()
    # systemd, timeout and kill send SIGTERM: stop the processes started here as Ctrl-C does
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    shutil.rmtree(args.folder / "nginx", ignore_errors=True)
    with deploy(args.db, args.count, args.folder) as deployment:
        print(f"nginx: {deployment.url}  processes: {', '.join(deployment.replicas)}", flush=True)
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            pass


if __name__ == "__main__":
    main()
