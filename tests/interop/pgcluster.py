"""A throwaway PostgreSQL cluster for the interop tests and the load test: initdb in a temp
dir, on a free loopback port, run as user `postgres`; `stop()` removes it. Standard library only.
"""
import pathlib
import shutil
import socket
import subprocess
import tempfile


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def available(bindir):
    """Whether `bindir` holds PostgreSQL's server binaries and this machine can run them as postgres."""
    return bool(bindir) and (pathlib.Path(bindir) / "pg_ctl").exists() and shutil.which("runuser") is not None


class Postgres:
    """A throwaway cluster in a temp dir, on a free loopback port, run as user postgres."""

    def __init__(self, bindir, max_connections=100):
        self.bindir = pathlib.Path(bindir)
        self.dir = pathlib.Path(tempfile.mkdtemp(prefix="iot-ca-pg-"))
        self.port = free_port()
        shutil.chown(self.dir, user="postgres")
        self.as_postgres(self.bindir / "initdb", "-D", self.dir / "data", "-A", "trust", "-U", "postgres")
        self.as_postgres(self.bindir / "pg_ctl", "-D", self.dir / "data", "-w", "-o",
                         f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 "
                         f"-c max_connections={max_connections}",
                         "-l", self.dir / "log", "start")
        self.url = f"postgres://postgres@127.0.0.1:{self.port}/postgres"

    def as_postgres(self, *cmd):
        subprocess.run(["runuser", "-u", "postgres", "--", *map(str, cmd)], check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def stop(self):
        try:
            self.as_postgres(self.bindir / "pg_ctl", "-D", self.dir / "data", "-m", "fast", "-w", "stop")
        finally:
            shutil.rmtree(self.dir, ignore_errors=True)
