"""``fota-tui sim``: help, bad ``--faults``, the printed URLs, and a clean stop on signals."""

from __future__ import annotations

import os
import queue
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from fota_tui.cli import main
from fota_tui.models import ProviderKind

pytestmark = pytest.mark.process  # a child process: the second CI pass

READY = "Ctrl+C stops it."
URL = re.compile(r"http://127\.0\.0\.1:(\d+)/([a-z]+)")


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    return code, out, err


def test_sim_help(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "sim", "--help")
    assert code == 0 and out.startswith("usage: fota-tui sim")
    for option in ("--port", "--faults", "--profile-out", "--devices", "--seed"):
        assert option in out


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("aovx:bogus=1", "unknown fault 'bogus'"),
        ("mars:error=0.1", "unknown platform 'mars'"),
        ("aovx:error=2", "between 0 and 1"),
        ("aovx:error=lots", "'lots' is not a number"),
        ("aovx-error", "is not PLATFORM:FAULT=VALUE"),
    ],
)
def test_sim_bad_faults_is_a_usage_error(
    capsys: pytest.CaptureFixture[str], spec: str, message: str
) -> None:
    code, out, err = run(capsys, "sim", "--port", "0", "--faults", spec)
    assert code == 2 and not out
    assert "--faults" in err and message in err


class Sim:
    """``python -m fota_tui sim --port 0`` in a subprocess; the fixture always stops it."""

    def __init__(self, home: Path) -> None:
        env = dict(os.environ, PYTHONUNBUFFERED="1")  # keeps the isolated FOTA_TUI_*_DIR
        self.process = subprocess.Popen(
            [sys.executable, "-m", "fota_tui", "sim", "--port", "0", "--devices", "40"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            cwd=home,
            env=env,
        )
        self.lines: list[str] = []
        self.stderr: str | None = None
        self._out: queue.Queue[str | None] = queue.Queue()
        self._pump = threading.Thread(target=self._read, daemon=True)
        self._pump.start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self._out.put(line.rstrip("\n"))
        self._out.put(None)

    def wait_ready(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while READY not in self.lines:
            line = self._out.get(timeout=max(deadline - time.monotonic(), 0.01))
            assert line is not None, f"fota-tui sim ended early: {self.lines}"
            self.lines.append(line)
        # The ready line comes just before the signal handlers are installed; wait for
        # them (Linux: the caught-signals mask in /proc) so a signal cannot race them.
        status = Path(f"/proc/{self.process.pid}/status")
        for sig in (signal.SIGTERM, signal.SIGINT):
            while status.exists() and not _catches(status, sig):
                assert time.monotonic() < deadline, f"fota-tui sim never handles {sig.name}"
                time.sleep(0.01)

    def stop(self, sig: signal.Signals = signal.SIGTERM) -> tuple[int, str]:
        if self.process.poll() is None:
            self.process.send_signal(sig)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=15)
        self._pump.join(timeout=15)
        if self.stderr is None:  # the first stop reads and closes the pipes
            self.stderr = self.process.stderr.read() if self.process.stderr else ""
            for stream in (self.process.stdout, self.process.stderr):
                if stream is not None:
                    stream.close()
        return self.process.returncode, self.stderr


def _catches(status: Path, sig: signal.Signals) -> bool:
    try:
        text = status.read_text()
    except OSError:  # the process is gone: nothing to wait for
        return True
    for line in text.splitlines():
        if line.startswith("SigCgt:"):
            return bool(int(line.split()[1], 16) >> (sig - 1) & 1)
    return True  # no mask to read: do not wait


@pytest.fixture
def sim(tmp_path: Path) -> Iterator[Sim]:
    running = Sim(tmp_path)
    try:
        running.wait_ready()
        yield running
    finally:
        running.stop(signal.SIGKILL)  # a no-op when the test already stopped it


def test_sim_prints_one_url_per_platform_and_serves_them(sim: Sim) -> None:
    found = [m for line in sim.lines for m in URL.finditer(line)]
    assert sorted(platform for _, platform in (m.groups() for m in found)) == sorted(
        kind.value for kind in ProviderKind
    )
    ports = {port for port, _ in (m.groups() for m in found)}
    assert len(ports) == 1 and int(next(iter(ports))) > 0
    for match in found:
        answer = httpx.get(match.group(0) + "/no/such/path", timeout=10)
        assert answer.status_code < 500, (match.group(0), answer.status_code)


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=lambda s: s.name)
def test_sim_stops_cleanly_on_a_signal(sim: Sim, sig: signal.Signals) -> None:
    code, stderr = sim.stop(sig)
    assert code == 0, stderr
    assert "Traceback" not in stderr
    assert "simulator stopped" in stderr


def test_sim_stops_on_ctrl_c_even_when_started_with_sigint_ignored(tmp_path: Path) -> None:
    """A shell starts background jobs with SIGINT ignored; ``sim`` must still stop."""
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)  # inherited by the child
    try:
        sim = Sim(tmp_path)
    finally:
        signal.signal(signal.SIGINT, previous)
    try:
        sim.wait_ready()
        code, stderr = sim.stop(signal.SIGINT)
    finally:
        sim.stop(signal.SIGKILL)
    assert code == 0, stderr
    assert "simulator stopped" in stderr
