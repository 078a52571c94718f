"""The real ``fota-tui --demo`` in a detached tmux session: open, switch views, quit."""

from __future__ import annotations

import shlex
import shutil
import sys
import uuid
from pathlib import Path

import pytest
from tmux_harness import Tmux, wait_for_file

pytestmark = [
    pytest.mark.tmux,
    pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed"),
]


def _env(tmp_path: Path) -> dict[str, str]:
    return {
        "FOTA_TUI_CONFIG_DIR": str(tmp_path / "config"),
        "FOTA_TUI_CACHE_DIR": str(tmp_path / "cache"),
        "FOTA_TUI_DATA_DIR": str(tmp_path / "data"),
        "FOTA_TUI_LOG_DIR": str(tmp_path / "log"),
        "TERM": "xterm-256color",
    }


def test_demo_opens_dashboard_campaigns_and_quits(tmp_path: Path) -> None:
    session = f"fota-{uuid.uuid4().hex[:8]}"
    env = _env(tmp_path)
    done = tmp_path / "exit-code"
    command = (
        f"{shlex.quote(sys.executable)} -m fota_tui --demo; echo $? > {shlex.quote(str(done))}"
    )
    tmux = Tmux()
    tmux.start(session, command, env)
    try:
        # The header, panes and table arrive over a few frames: wait for all three.
        screen = tmux.wait_for(
            session, lambda s: "Devices" in s and "devices ·" in s and "Demo fleet" in s
        )
        assert "LAB" in screen
        assert "thingspace-demo" in screen and "aovx-demo" in screen
        assert "Traceback" not in screen
        tmux.keys(session, "c")
        screen = tmux.wait_for(
            session, lambda s: "Schedule" in s and "Campaigns " in s and "partial" in s
        )
        assert "Firmware" in screen and "Progress" in screen
        tmux.keys(session, "?")
        tmux.wait_for(session, lambda s: "(this screen)" in s)
        tmux.keys(session, "Escape")
        tmux.wait_for(session, lambda s: "Schedule" in s and "(this screen)" not in s)
        tmux.keys(session, "q")
        assert wait_for_file(done) == "0"
        # A demo is a simulator run of its own: nothing of it is cached for the next one.
        assert not (tmp_path / "cache" / "snapshots" / "demo.json").exists()
    finally:
        tmux.kill()


def test_the_glance_at_80x24_in_a_16_colour_terminal(tmp_path: Path) -> None:
    """The real binary, TERM=xterm: failures first, the fleet's failed count in the
    header, help and quit in the footer; ``!`` and ``:`` work."""
    session = f"fota-{uuid.uuid4().hex[:8]}"
    env = {**_env(tmp_path), "TERM": "xterm"}
    done = tmp_path / "exit-code"
    command = (
        f"{shlex.quote(sys.executable)} -m fota_tui --demo; echo $? > {shlex.quote(str(done))}"
    )
    tmux = Tmux()
    tmux.start(session, command, env, size=(80, 24))
    try:
        screen = tmux.wait_for(
            session, lambda s: "problems first" in s and s.count(" dev · ") >= 4 and " failed" in s
        )
        lines = screen.splitlines()
        assert "✗" in lines[0] and "failed" in lines[0]  # the fleet's failures, in the header
        header = next(i for i, line in enumerate(lines) if "Device / IMEI" in line)
        assert " failed " in lines[header + 1]  # the first row is a failure
        assert "? Help" in lines[-1] and "q Quit" in lines[-1]
        tmux.keys(session, "!")
        screen = tmux.wait_for(session, lambda s: "state:attention" in s)
        assert "succeeded" not in screen
        tmux.keys(session, ":")
        tmux.wait_for(session, lambda s: "Jump to" in s)
        tmux.keys(session, "campaigns", literal=True)
        tmux.keys(session, "Enter")
        tmux.wait_for(session, lambda s: "Campaigns " in s and "Fail+exp" in s)
        tmux.keys(session, "q")
        assert wait_for_file(done) == "0"
    finally:
        tmux.kill()
