"""One simulated platform per package (``<platform>/dialect.py`` and its helpers); each
package's ``__init__`` says where its dialect is, its share of the fleet and its demo
account, so a demo profile costs no import of a dialect. Listed here, one line each."""

from __future__ import annotations

from importlib import import_module
from types import ModuleType
from typing import TYPE_CHECKING

from fota_tui.models import ProviderKind
from fota_tui.sim.dialects import aovx, oceanconnect, onenet, thingspace

if TYPE_CHECKING:
    from fota_tui.sim.dialect import Dialect

PACKAGES: dict[ProviderKind, ModuleType] = {
    ProviderKind.THINGSPACE: thingspace,
    ProviderKind.OCEANCONNECT: oceanconnect,
    ProviderKind.ONENET: onenet,
    ProviderKind.AOVX: aovx,
}


def dialect_class(kind: ProviderKind) -> type[Dialect]:
    module, _, name = PACKAGES[kind].DIALECT.partition(":")
    cls: type[Dialect] = getattr(import_module(module), name)
    return cls


def share(kind: ProviderKind) -> float:
    """The platform's share of the simulated fleet."""
    return float(PACKAGES[kind].SHARE)


def demo_credentials(kind: ProviderKind) -> dict[str, str]:
    return dict(PACKAGES[kind].DEMO_CREDENTIALS)
