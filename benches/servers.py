"""The server processes the benches start (load.py, mqtt.py): a process logging to a file, the
wait for its port, its resident memory, and its stop. Standard library only."""
import pathlib
import socket
import subprocess
import sys
import time


def wait_for_port(port, proc, log, timeout=60):
    """Returns once 127.0.0.1:`port` accepts; exits if `proc` ends first or time runs out."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            sys.exit(f"the process exited ({proc.returncode}) before listening; see {log}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    sys.exit(f"nothing listened on port {port} within {timeout} s; see {log}")


class Process:
    """A server process whose stdout and stderr go to `log`; with `port`, started once it
    listens there."""

    def __init__(self, argv, log, port=None):
        self.log = log
        self.file = open(log, "wb")
        self.proc = subprocess.Popen(argv, stdout=self.file, stderr=subprocess.STDOUT)
        if port is not None:
            self.wait(port)

    def wait(self, port):
        """Returns once it listens on `port`; stops it and exits if it does not."""
        try:
            wait_for_port(port, self.proc, self.log)
        except BaseException:
            self.stop()
            raise

    def rss_kib(self):
        """Its resident memory now (VmRSS), in KiB."""
        for line in pathlib.Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
        raise RuntimeError(f"no VmRSS for process {self.proc.pid}")

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.file.close()
