"""One dialect per platform; loaded by name so each stays independent."""

from __future__ import annotations

from importlib import import_module

from fota_tui.models import ProviderKind
from fota_tui.sim.dialect import Dialect

_DIALECTS = {
    ProviderKind.THINGSPACE: "fota_tui.sim.dialects.thingspace:ThingSpaceDialect",
    ProviderKind.OCEANCONNECT: "fota_tui.sim.dialects.oceanconnect:OceanConnectDialect",
    ProviderKind.ONENET: "fota_tui.sim.dialects.onenet:OneNetDialect",
    ProviderKind.AOVX: "fota_tui.sim.dialects.aovx:AovxDialect",
}


def dialect_class(kind: ProviderKind) -> type[Dialect]:
    module, _, name = _DIALECTS[kind].partition(":")
    cls: type[Dialect] = getattr(import_module(module), name)
    return cls
