"""A throw-away PostgreSQL cluster on this machine, for the tests, the benchmark and the load test.

Debian's ``postgresql`` package (scripts/setup.sh --dev installs it) provides ``initdb`` and
``pg_ctl`` under /usr/lib/postgresql/<version>/bin. They refuse to run as root, so as root the
cluster is created and run as ``nobody`` in a directory it owns. The cluster listens on 127.0.0.1
only, on a free port, trusts local connections (user ``ipmon``, no password) and is stopped and
deleted when the block ends. Nothing here touches a cluster the package itself may have made.

    with temporary_cluster() as cluster:
        url = cluster.create_database("t1")    # postgresql://ipmon@127.0.0.1:PORT/t1
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from devtools.serving import free_port

USER = "ipmon"


class ClusterError(RuntimeError):
    """PostgreSQL's programs are missing, or the cluster would not start; the message says which."""


def _bindir() -> Path:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(Path(p).parts[4]))
    if found:
        return Path(found[-1]).parent
    initdb = shutil.which("initdb")
    if initdb:
        return Path(initdb).resolve().parent
    raise ClusterError("PostgreSQL is not installed (no initdb): run `bash scripts/setup.sh --dev`, "
                       "which installs Debian's postgresql package")


def _as_cluster_user(args: list[str]) -> list[str]:
    return ["runuser", "-u", "nobody", "--", *args] if os.geteuid() == 0 else args


@dataclass(frozen=True)
class Cluster:
    port: int
    directory: Path

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://{USER}@127.0.0.1:{self.port}/{database}"

    def create_database(self, name: str, template: str | None = None) -> str:
        """A new database (``name``: letters, digits and _ only), empty or a copy of the database
        ``template`` (which nobody may be connected to); returns its URL."""
        return create_database(self.url(), name, template)

    def drop_database(self, name: str) -> None:
        import psycopg

        with psycopg.connect(self.url(), autocommit=True) as con:
            con.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def create_database(server_url: str, name: str, template: str | None = None, *, replace: bool = False) -> str:
    """On the server at ``server_url`` (a user who may CREATE DATABASE), a new database ``name``,
    empty or a copy of ``template`` (PostgreSQL copies it file by file: far quicker than loading it
    again); ``replace``: drop one of that name first. Returns its URL."""
    for plain in (name, template or ""):
        if plain and not plain.replace("_", "").isalnum():
            raise ValueError(f"not a plain database name: {plain!r}")
    import psycopg

    with psycopg.connect(server_url, autocommit=True) as con:
        if replace:
            con.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        con.execute(f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"' if template else ""))
    return server_url.rsplit("/", 1)[0] + "/" + name


@contextmanager
def temporary_cluster(*, max_connections: int = 200, durable: bool = False) -> Iterator[Cluster]:
    """Start a new cluster, yield it, stop and delete it (even when the block fails). ``durable``
    False (tests): no fsync, as nothing outlives the run; the benchmark asks for True, so PostgreSQL
    syncs its commits as DuckDB does."""
    bindir = _bindir()
    top = Path(tempfile.mkdtemp(prefix="ipmon-pg-"))
    data = top / "data"
    data.mkdir()
    if os.geteuid() == 0:
        shutil.chown(top, "nobody")
        shutil.chown(data, "nobody")
    port = free_port()
    log = top / "server.log"

    def run(args: list[str]) -> None:
        done = subprocess.run(_as_cluster_user(args), capture_output=True, text=True, cwd=top)
        if done.returncode != 0:
            tail = log.read_text(errors="replace")[-2000:] if log.exists() else ""
            raise ClusterError(f"{Path(args[0]).name} failed ({done.returncode}): {done.stderr.strip()}\n{tail}")

    try:
        run([str(bindir / "initdb"), "-D", str(data), "-U", USER, "--auth=trust", "--encoding=UTF8",
             "--locale=C.UTF-8", "--no-sync"])
        options = f"-p {port} -k {top} -c listen_addresses=127.0.0.1 -c max_connections={max_connections}"
        if not durable:
            options += " -c fsync=off -c full_page_writes=off -c synchronous_commit=off"
        run([str(bindir / "pg_ctl"), "-D", str(data), "-l", str(log), "-o", options, "-w", "-t", "60", "start"])
        try:
            yield Cluster(port=port, directory=top)
        finally:
            subprocess.run(_as_cluster_user([str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w",
                                             "stop"]), capture_output=True, cwd=top)
    finally:
        shutil.rmtree(top, ignore_errors=True)
