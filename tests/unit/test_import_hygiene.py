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


def test_the_console_paints_its_first_frame_before_loading_the_network_or_campaign_code():
    """What the first frame does not need is imported after it (``--demo`` start-up is
    measured in benchmarks/README.md): no HTTP client, adapter or campaign service."""
    code = (
        "import sys\n"
        "import fota_tui.cli, fota_tui.tui.app, fota_tui.tui.screens.dashboard\n"
        "late = ('httpx', 'fota_tui.providers.registry', 'fota_tui.services.campaigns.service')\n"
        "print(','.join(m for m in late if m in sys.modules))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "", f"loaded before the first frame: {result.stdout}"
