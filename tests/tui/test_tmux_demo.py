"""The real ``fota-tui --demo`` in a detached tmux session: open, switch views, quit."""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

pytestmark = [
    pytest.mark.tmux,
    pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed"),
]


SOCKET = f"fota-test-{uuid.uuid4().hex[:8]}"  # a private tmux server: no other session's sizes


def _tmux(*argv: str) -> str:
    return subprocess.run(
        ["tmux", "-L", SOCKET, *argv], check=True, capture_output=True, text=True, timeout=20
    ).stdout


def _wait_for(session: str, predicate, timeout: float = 30.0) -> str:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    screen = ""
    while time.monotonic() < deadline:
        screen = _tmux("capture-pane", "-p", "-t", session)
        if predicate(screen):
            return screen
        time.sleep(0.2)
    raise AssertionError(f"timed out; the screen was:\n{screen}")


def test_demo_opens_dashboard_campaigns_and_quits(tmp_path: Path) -> None:
    session = f"fota-{uuid.uuid4().hex[:8]}"
    env = {
        "FOTA_TUI_CONFIG_DIR": str(tmp_path / "config"),
        "FOTA_TUI_CACHE_DIR": str(tmp_path / "cache"),
        "FOTA_TUI_DATA_DIR": str(tmp_path / "data"),
        "FOTA_TUI_LOG_DIR": str(tmp_path / "log"),
        "TERM": "xterm-256color",
    }
    exports = " ".join(f"{k}={shlex.quote(v)}" for k, v in env.items())
    done = tmp_path / "exit-code"
    command = (
        f"cd {shlex.quote(os.getcwd())} && env -u COLUMNS -u LINES {exports} "
        f"{shlex.quote(sys.executable)} -m fota_tui --demo; echo $? > {shlex.quote(str(done))}"
    )
    _tmux("new-session", "-d", "-s", session, "-x", "120", "-y", "40", command)
    try:
        # The header, panes and table arrive over a few frames: wait for all three.
        screen = _wait_for(
            session, lambda s: "Devices" in s and "devices ·" in s and "Demo fleet" in s
        )
        assert "LAB" in screen
        assert "thingspace-demo" in screen and "aovx-demo" in screen
        assert "Traceback" not in screen
        _tmux("send-keys", "-t", session, "c")
        screen = _wait_for(session, lambda s: "Schedule" in s and "campaigns ·" in s)
        assert "Firmware" in screen and "Progress" in screen
        _tmux("send-keys", "-t", session, "?")
        _wait_for(session, lambda s: "(this screen)" in s)
        _tmux("send-keys", "-t", session, "Escape")
        _wait_for(session, lambda s: "Schedule" in s and "(this screen)" not in s)
        _tmux("send-keys", "-t", session, "q")
        deadline = time.monotonic() + 20
        while not done.exists() and time.monotonic() < deadline:
            time.sleep(0.1)
        assert done.read_text().strip() == "0"
        assert (tmp_path / "cache" / "snapshots" / "demo.json").is_file()
    finally:
        subprocess.run(["tmux", "-L", SOCKET, "kill-server"], capture_output=True)
