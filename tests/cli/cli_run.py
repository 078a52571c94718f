"""Running the CLI in-process for a test, with an answer on stdin."""

from __future__ import annotations

import io

from fota_tui.cli import main


def run(capsys, monkeypatch, *argv: str, answer: str | None = None) -> tuple[int, str, str]:  # type: ignore[no-untyped-def]
    """``fota-tui ARGV`` → (exit code, stdout, stderr); never a traceback."""
    monkeypatch.setattr("sys.stdin", io.StringIO("" if answer is None else answer + "\n"))
    code = main(list(argv))
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    return code, out, err
