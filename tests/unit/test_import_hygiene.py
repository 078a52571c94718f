"""The headless core must never pull in Textual or Rich."""

from __future__ import annotations

import pkgutil
import subprocess
import sys

import pytest

import fota_tui

pytestmark = pytest.mark.process  # a child process: the second CI pass

HEADLESS = ("models", "errors", "config", "providers", "sim", "services")


def _headless_modules() -> list[str]:
    names = []
    for info in pkgutil.walk_packages(fota_tui.__path__, "fota_tui."):
        top = info.name.split(".")[1]
        if top in HEADLESS:
            names.append(info.name)
    return names


def test_headless_core_imports_without_textual_or_rich():
    modules = _headless_modules()
    assert "fota_tui.models" in modules and "fota_tui.sim.server" in modules
    code = (
        "import importlib, sys\n"
        f"for name in {modules!r}: importlib.import_module(name)\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in ('textual', 'rich'))\n"
        "print(','.join(bad))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "", f"headless core imported: {result.stdout}"
