"""Run the real ``fota-tui sim`` in a subprocess on 127.0.0.1 (for the loopback suites)."""

from __future__ import annotations

import os
import queue
import re
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from fota_tui.models import ProviderKind

READY = "Ctrl+C stops it."
URL_LINE = re.compile(r"^\s+(?P<kind>[a-z]+)\s+(?P<url>http://127\.0\.0\.1:\d+/[a-z]+)\s")


def isolated_env(home: Path) -> dict[str, str]:
    """The environment for a child ``fota-tui``: its dirs under ``home``, unbuffered output."""
    env = dict(os.environ)
    for name in ("CONFIG", "CACHE", "DATA", "LOG"):
        env[f"FOTA_TUI_{name}_DIR"] = str(home / name.lower())
    env["PYTHONUNBUFFERED"] = "1"
    return env


def fota_tui(home: Path, *args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """Run ``python -m fota_tui ARGS`` to completion in ``home``."""
    return subprocess.run(
        [sys.executable, "-m", "fota_tui", *args],
        capture_output=True,
        text=True,
        cwd=home,
        env=isolated_env(home),
        timeout=timeout,
        check=False,
    )


@dataclass
class SimProcess:
    """A running ``fota-tui sim``; ``stop()`` always ends it."""

    process: subprocess.Popen[str]
    lines: list[str] = field(default_factory=list)
    _out: queue.Queue[str | None] = field(default_factory=queue.Queue)
    _pump_thread: threading.Thread | None = None
    stderr: str | None = None

    @classmethod
    def start(cls, home: Path, *args: str, timeout: float = 60) -> SimProcess:
        home.mkdir(parents=True, exist_ok=True)
        process = subprocess.Popen(
            [sys.executable, "-m", "fota_tui", "sim", "--port", "0", *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            cwd=home,
            env=isolated_env(home),
        )
        sim = cls(process)
        sim._pump_thread = threading.Thread(target=sim._pump, daemon=True)
        sim._pump_thread.start()
        try:
            sim.wait_for(READY, timeout)
        except BaseException:
            sim.stop()
            raise
        return sim

    def _pump(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self._out.put(line.rstrip("\n"))
        self._out.put(None)

    def wait_for(self, text: str, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while not any(text in line for line in self.lines):
            try:
                line = self._out.get(timeout=max(deadline - time.monotonic(), 0.01))
            except queue.Empty:
                raise TimeoutError(f"no {text!r} from fota-tui sim; got {self.lines}") from None
            if line is None:
                raise RuntimeError(f"fota-tui sim ended early: {self.lines}")
            self.lines.append(line)

    @property
    def urls(self) -> dict[ProviderKind, str]:
        found = {}
        for line in self.lines:
            match = URL_LINE.match(line)
            if match:
                found[ProviderKind(match["kind"])] = match["url"]
        return found

    def stop(self, sig: signal.Signals = signal.SIGTERM, timeout: float = 15) -> tuple[int, str]:
        """Send ``sig`` and wait; kill if it does not end. Returns (exit code, stderr)."""
        if self.process.poll() is None:
            self.process.send_signal(sig)
            try:
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=timeout)
        if self._pump_thread is not None:
            self._pump_thread.join(timeout)  # stdout ends with the process
        if self.stderr is None:  # the first stop reads and closes the pipes
            self.stderr = self.process.stderr.read() if self.process.stderr else ""
            for stream in (self.process.stdout, self.process.stderr):
                if stream is not None:
                    stream.close()
        return self.process.returncode, self.stderr
