from __future__ import annotations

import logging
import stat

from fota_tui.logs import redact, register_secret, setup_logging


def test_registered_secrets_and_auth_shapes_are_masked():
    register_secret("s3cr3t-Value-42")
    text = redact(
        "login with s3cr3t-Value-42; Authorization: Bearer abcdef123456 "
        '{"accessToken": "tok-999999", "tokenId":"T0K3N"} api-key=KEYKEY app_key: APPID01'
    )
    for leaked in ("s3cr3t-Value-42", "abcdef123456", "tok-999999", "T0K3N", "KEYKEY", "APPID01"):
        assert leaked not in text
    assert "Bearer ***" in text


def test_log_file_is_private_and_scrubbed_including_tracebacks(tmp_path):
    path = setup_logging(tmp_path / "logs", debug=True)
    register_secret("hunter2-hunter2")
    log = logging.getLogger("fota_tui.test")
    log.info("password=%s", "hunter2-hunter2")
    try:
        raise ValueError("boom hunter2-hunter2")
    except ValueError:
        log.exception("failed")
    root = logging.getLogger()
    for handler in list(root.handlers):
        handler.flush()
        if getattr(handler, "baseFilename", None) == str(path):
            root.removeHandler(handler)
            handler.close()
    content = path.read_text()
    assert "hunter2-hunter2" not in content and "boom ***" in content
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700


def test_short_values_are_not_registered():
    register_secret("ab")
    assert redact("ab cab") == "ab cab"


def test_an_unwritable_log_dir_warns_once_without_a_traceback(tmp_path, capsys):
    blocker = tmp_path / "file"
    blocker.write_text("not a dir")
    path = setup_logging(blocker / "logs")
    log = logging.getLogger("fota_tui.test")
    log.warning("one")
    log.warning("two")
    err = capsys.readouterr().err
    assert err.count("cannot write the log file") == 1 and "Traceback" not in err
    root = logging.getLogger()
    for handler in [h for h in root.handlers if getattr(h, "baseFilename", None) == str(path)]:
        root.removeHandler(handler)
