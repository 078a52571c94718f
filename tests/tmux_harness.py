"""The real binary in a private tmux server: start, type, wait for what the screen shows.

Every wait is for a condition on the screen (or a file), never a fixed pause: a loaded
machine only makes a test slower, not wrong. The server's options are set by its config
file before any program runs: ``set-clipboard on`` (an OSC 52 becomes a paste buffer we can
inspect) and ``escape-time 0`` (Escape followed by a key is two keys, not Alt+key).
"""

from __future__ import annotations

import os
import shlex
import subprocess
import tempfile
import time
import uuid
from collections.abc import Callable, Mapping
from pathlib import Path

POLL = 0.1  # seconds between two looks at the screen (inside a wait, never a pause)
CONFIG = "set -g set-clipboard on\nset -s escape-time 0\nset -g history-limit 100\n"


class Tmux:
    """A private tmux server (its own socket and config), so nothing else interferes."""

    def __init__(self) -> None:
        self.socket = f"fota-test-{uuid.uuid4().hex[:8]}"
        handle, self.config = tempfile.mkstemp(prefix="fota-tmux-", suffix=".conf")
        with os.fdopen(handle, "w") as conf:
            conf.write(CONFIG)

    def __call__(self, *argv: str, check: bool = True) -> str:
        return subprocess.run(
            ["tmux", "-L", self.socket, "-f", self.config, *argv],
            check=check,
            capture_output=True,
            text=True,
            timeout=30,
        ).stdout

    def start(
        self, session: str, command: str, env: Mapping[str, str], size: tuple[int, int] = (120, 40)
    ) -> None:
        exports = " ".join(f"{k}={shlex.quote(v)}" for k, v in env.items())
        shell = f"cd {shlex.quote(os.getcwd())} && env -u COLUMNS -u LINES {exports} {command}"
        self("new-session", "-d", "-s", session, "-x", str(size[0]), "-y", str(size[1]), shell)

    def keys(self, session: str, *keys: str, literal: bool = False) -> None:
        self("send-keys", "-t", session, *(["-l"] if literal else []), *keys)

    def capture(self, session: str, *, escapes: bool = False) -> str:
        return self("capture-pane", "-p", *(["-e"] if escapes else []), "-t", session)

    def wait_for(
        self, session: str, predicate: Callable[[str], bool], timeout: float = 60.0
    ) -> str:
        deadline = time.monotonic() + timeout
        screen = ""
        while time.monotonic() < deadline:
            screen = self.capture(session)
            if predicate(screen):
                return screen
            time.sleep(POLL)
        raise AssertionError(f"timed out; the screen was:\n{screen}")

    def press_until(
        self,
        session: str,
        key: str,
        predicate: Callable[[str], bool],
        *,
        tries: int = 4,
        each: float = 10.0,
    ) -> str:
        """Press ``key`` until the screen shows ``predicate`` (a busy app may drop a key
        it receives while it rebuilds a view): a key, then a wait for the condition."""
        for attempt in range(tries):
            self.keys(session, key)
            try:
                return self.wait_for(session, predicate, timeout=each)
            except AssertionError:
                if attempt == tries - 1:
                    raise
        raise AssertionError("unreachable")

    def kill(self) -> None:
        subprocess.run(["tmux", "-L", self.socket, "kill-server"], capture_output=True, timeout=30)
        folder = Path(os.environ.get("TMUX_TMPDIR", "/tmp")) / f"tmux-{os.getuid()}"
        (folder / self.socket).unlink(missing_ok=True)
        Path(self.config).unlink(missing_ok=True)


def wait_for_file(path: Path, timeout: float = 30.0) -> str:
    """The text of ``path`` once it exists (a program writes it when it ends)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if path.exists() and path.read_text().strip():
            return path.read_text().strip()
        time.sleep(POLL)
    raise AssertionError(f"{path} was not written within {timeout:.0f} s")
