"""A platform's knowledge lives in its packages: no other product module names a
platform in code (docstrings, help texts and examples may), except the registrations
listed in docs/architecture.md ("Where a platform lives")."""

from __future__ import annotations

import ast
from pathlib import Path

import fota_tui
from fota_tui.models import ProviderKind
from fota_tui.providers.registry import PLATFORMS
from fota_tui.sim.dialects import PACKAGES

ROOT = Path(fota_tui.__file__).parent
REGISTRATIONS = {
    "models.py",  # ProviderKind and its labels
    "config/schema.py",  # the profile tables (config is below providers)
    "config/__init__.py",
    "providers/registry.py",
    "sim/dialects/__init__.py",
}
MEMBERS = {kind.name for kind in ProviderKind}


def own_package(relative: str) -> bool:
    """``providers/<kind>/…`` or ``sim/dialects/<kind>/…``."""
    kinds = {k.value for k in ProviderKind}
    parts = relative.split("/")
    if parts[0] == "providers":
        return len(parts) > 2 and parts[1] in kinds
    return parts[:2] == ["sim", "dialects"] and len(parts) > 3 and parts[2] in kinds


def names_a_platform(tree: ast.AST) -> list[str]:
    found = []
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Attribute)
            and node.attr in MEMBERS
            and isinstance(node.value, ast.Name)
            and node.value.id == "ProviderKind"
        ):
            found.append(f"ProviderKind.{node.attr} (line {node.lineno})")
        if (
            isinstance(node, ast.Name)
            and node.id.endswith("Config")
            and node.id[:-6].lower() in {k.value for k in ProviderKind}
        ):
            found.append(f"{node.id} (line {node.lineno})")
    return found


def test_no_product_module_outside_a_platforms_packages_names_a_platform() -> None:
    offenders = {}
    for path in ROOT.rglob("*.py"):
        relative = path.relative_to(ROOT).as_posix()
        if relative in REGISTRATIONS or own_package(relative):
            continue
        found = names_a_platform(ast.parse(path.read_text(encoding="utf-8")))
        if found:
            offenders[relative] = found
    assert offenders == {}
    # The check sees a registration for what it is.
    assert names_a_platform(ast.parse((ROOT / "models.py").read_text(encoding="utf-8")))


def test_every_platform_is_declared_and_simulated() -> None:
    assert set(PLATFORMS) == set(ProviderKind) == set(PACKAGES)
    for kind, platform in PLATFORMS.items():
        assert platform.kind is kind
        assert platform.client_class().kind is kind
        for item in platform.fields:
            assert item.step in ("firmware", "targets", "schedule"), item
            if item.when is not None:
                assert any(f.key == item.when[0] for f in platform.fields), item
