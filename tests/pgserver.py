"""A real, throwaway PostgreSQL server for the tests, started from the machine's own binaries.

``initdb`` makes a cluster in a temporary folder and ``pg_ctl`` starts it on a free port of
127.0.0.1 (no Unix socket outside that folder); :meth:`PgServer.stop` stops it and removes the
folder. The server refuses to run as root, so as root it runs as the unprivileged ``nobody``
(through ``runuser``). Durability is switched off (``fsync=off``): a test server is thrown away.

The folder is in memory (``/dev/shm``) where the machine has it: each test database is a copy
of ``template1`` (about 8 MB), a test run makes dozens of them, and on a disk they were written
back while the tests ran and removed for seconds at the end. New databases are copied file by
file (``STRATEGY FILE_COPY``, PostgreSQL 15+) rather than written through the write-ahead log.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
import uuid
from pathlib import Path

__all__ = ["PgServer", "PgUnavailable", "find_binaries"]

_SEARCH = ("/usr/lib/postgresql/*/bin", "/usr/local/pgsql/bin", "/usr/pgsql-*/bin")


class PgUnavailable(RuntimeError):
    """The machine has no PostgreSQL server binaries (or they cannot run)."""


def find_binaries() -> Path:
    """The folder holding ``initdb``, ``pg_ctl`` and ``postgres``."""
    found = shutil.which("pg_ctl")
    candidates = [Path(found).resolve().parent] if found else []
    for pattern in _SEARCH:
        candidates += sorted(Path("/").glob(pattern.lstrip("/")), reverse=True)
    for folder in candidates:
        if all((folder / b).exists() for b in ("initdb", "pg_ctl", "postgres")):
            return folder
    raise PgUnavailable(
        "no PostgreSQL server binaries (initdb, pg_ctl, postgres) on this machine; install "
        "them: apt-get install postgresql")


def _folder(as_root: bool) -> str | None:
    """Where the cluster's folder goes: ``/dev/shm`` (memory) when the machine has it, else
    ``/tmp`` as root (the folder must be reachable for ``nobody``), else the default."""
    shm = "/dev/shm"
    if os.path.isdir(shm) and os.access(shm, os.W_OK | os.X_OK):
        return shm
    return "/tmp" if as_root else None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class PgServer:
    """A PostgreSQL cluster in a temporary folder, superuser ``kam_admin`` with trust auth on
    127.0.0.1 only."""

    superuser = "kam_admin"

    def __init__(self) -> None:
        self.bin = find_binaries()
        self.port = _free_port()
        self._as_root = os.geteuid() == 0
        # As root the server runs as nobody, who must reach the folder: /dev/shm or /tmp, not
        # $TMPDIR.
        self.root = Path(tempfile.mkdtemp(prefix="kam-pg-", dir=_folder(self._as_root)))
        self.data = self.root / "data"
        self.started = False
        self._file_copy = False

    def _run(self, *args: str, timeout: float = 120) -> None:
        cmd = [str(self.bin / args[0]), *args[1:]]
        if self._as_root:
            cmd = ["runuser", "-u", "nobody", "--", *cmd]
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout,
                              cwd=self.root, env={**os.environ, "LC_ALL": "C.UTF-8"})
        if proc.returncode:
            raise PgUnavailable(f"{' '.join(args[:2])} failed ({proc.returncode}): "
                                f"{(proc.stderr or proc.stdout).strip()[-800:]}")

    def start(self) -> PgServer:
        if self._as_root:
            shutil.chown(self.root, "nobody")
        self._run("initdb", "-D", str(self.data), "-U", self.superuser, "--auth=trust",
                  "-E", "UTF8", "--no-sync", "--locale=C.UTF-8")
        opts = (f"-c listen_addresses=127.0.0.1 -c port={self.port} "
                f"-c unix_socket_directories={self.root} -c fsync=off "
                "-c synchronous_commit=off -c full_page_writes=off -c max_connections=200 "
                "-c shared_buffers=64MB")
        self._run("pg_ctl", "-D", str(self.data), "-o", opts, "-l",
                  str(self.root / "server.log"), "-w", "-t", "60", "start")
        self.started = True
        version = (self.data / "PG_VERSION").read_text(encoding="ascii").strip()
        self._file_copy = int(version.split(".")[0]) >= 15
        return self

    def stop(self) -> None:
        if self.started:
            try:
                self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop",
                          timeout=60)
            finally:
                self.started = False
        shutil.rmtree(self.root, ignore_errors=True)

    def url(self, database: str = "postgres", user: str | None = None) -> str:
        return (f"postgresql+psycopg://{user or self.superuser}@127.0.0.1:{self.port}/"
                f"{database}")

    def sql(self, *statements: str, database: str = "postgres") -> None:
        """Run statements as the superuser (autocommit: CREATE DATABASE may be among them)."""
        import psycopg

        with psycopg.connect(host="127.0.0.1", port=self.port, user=self.superuser,
                             dbname=database, autocommit=True) as conn:
            for statement in statements:
                conn.execute(statement)  # type: ignore[arg-type]

    def new_database(self) -> str:
        """A new empty database; its SQLAlchemy URL."""
        name = f"t_{uuid.uuid4().hex[:12]}"
        strategy = " STRATEGY FILE_COPY" if self._file_copy else ""
        self.sql(f'CREATE DATABASE "{name}"{strategy}')
        return self.url(name)

    def wait_ready(self, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while True:
            try:
                self.sql("SELECT 1")
                return
            except Exception:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
