"""Subprocesses whose output goes to a log file, and the waits around them."""

import os
import signal
import socket
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN = os.path.dirname(sys.executable)


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def listening(port, host="127.0.0.1"):
    try:
        with socket.create_connection((host, port), timeout=0.3):
            return True
    except OSError:
        return False


def wait_for(condition, timeout=10.0, interval=0.05, what="condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = condition()
        if result:
            return result
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


class Process:
    """A subprocess in a session of its own (so a signal reaches its children
    too), its output in a log file that a failing test or a report can show."""

    def __init__(self, name, command, env, cwd=ROOT, log_path=None):
        self.name = name
        self.log_path = log_path or tempfile.mktemp(prefix=f"parley-{name}-", suffix=".log")
        self.log = open(self.log_path, "ab")
        self.popen = subprocess.Popen(
            command, cwd=cwd, env=env, stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True
        )

    @property
    def pid(self):
        return self.popen.pid

    def output(self):
        with open(self.log_path, errors="replace") as file:
            return file.read()

    def alive(self):
        return self.popen.poll() is None

    def signal(self, number):
        if self.alive():
            os.killpg(self.popen.pid, number)

    def stop(self, timeout=15):
        if self.alive():
            self.signal(signal.SIGTERM)
            try:
                self.popen.wait(timeout)
            except subprocess.TimeoutExpired:
                self.signal(signal.SIGKILL)
                self.popen.wait(5)
        self.log.close()

    def kill(self):
        """SIGKILL, as a crash would."""
        self.signal(signal.SIGKILL)
        self.popen.wait(5)
        self.log.close()
