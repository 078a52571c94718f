"""The log file: rotating, private (0600), and scrubbed of secrets before it is written.

Every resolved credential and every token a platform hands out is registered with
``register_secret``; the filter replaces those values anywhere in a record, and also
masks anything that looks like an auth header or token field.
"""

from __future__ import annotations

import logging
import os
import re
import sys
import threading
from logging.handlers import RotatingFileHandler
from pathlib import Path

from fota_tui.text import clean

LOG_FILE = "fota-tui.log"
MAX_BYTES = 1_000_000
BACKUPS = 3
MASK = "***"

_secrets: set[str] = set()
_lock = threading.Lock()
_PATTERNS = [
    re.compile(r"(?i)(bearer|basic)\s+[A-Za-z0-9._~+/=-]{6,}"),
    re.compile(
        r"(?i)((?:access_?token|refresh_?token|session_?token|token_?id|api[-_]key|app_key|"
        r"app_?secret|secret|password|vz-m2m-token|token)[\"']?\s*[:=]\s*[\"']?)([^\"'\s,&}]+)"
    ),
]


def register_secret(value: str | None) -> None:
    """Never let ``value`` reach the log (short values would mask ordinary words)."""
    if value and len(value) >= 4:
        with _lock:
            _secrets.add(value)


def redact(text: str) -> str:
    with _lock:
        secrets = sorted(_secrets, key=len, reverse=True)
    for secret in secrets:
        if secret in text:
            text = text.replace(secret, MASK)
    text = _PATTERNS[0].sub(lambda m: f"{m.group(1)} {MASK}", text)
    return _PATTERNS[1].sub(lambda m: f"{m.group(1)}{MASK}", text)


class RedactingFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        # One record, one line: platform text can neither forge lines nor carry controls.
        record.msg, record.args = clean(redact(message)), None
        if record.exc_text:
            record.exc_text = clean(redact(record.exc_text), keep_newlines=True)
        return True


class _PrivateRotatingHandler(RotatingFileHandler):
    _warned = False

    def handleError(self, record: logging.LogRecord) -> None:
        """One line on stderr, once; never logging's own traceback."""
        if not self._warned:
            self._warned = True
            sys.stderr.write(f"fota-tui: warning: cannot write the log file {self.baseFilename}\n")

    def _open(self):  # type: ignore[no-untyped-def,unused-ignore]
        Path(self.baseFilename).parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        stream = super()._open()
        os.chmod(self.baseFilename, 0o600)
        return stream


def setup_logging(log_dir: Path, *, debug: bool = False) -> Path:
    """Send fota-tui's logs (and httpx's, with --debug) to the rotating file.

    The file (and its folder) is created with the first record, not before.
    """
    path = log_dir / LOG_FILE
    handler = _PrivateRotatingHandler(
        path, maxBytes=MAX_BYTES, backupCount=BACKUPS, encoding="utf-8", delay=True
    )
    handler.addFilter(RedactingFilter())
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    for old in [h for h in root.handlers if isinstance(h, _PrivateRotatingHandler)]:
        root.removeHandler(old)
        old.close()
    root.addHandler(handler)
    root.setLevel(logging.DEBUG if debug else logging.INFO)
    for noisy in ("httpx", "httpcore", "asyncio"):
        logging.getLogger(noisy).setLevel(logging.DEBUG if debug else logging.WARNING)
    logging.getLogger("httpcore").setLevel(logging.INFO if debug else logging.WARNING)
    return path
