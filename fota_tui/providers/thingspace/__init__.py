"""Verizon ThingSpace Software Management (FOTA v1 upgrades and v3 campaigns)."""

from fota_tui.providers.thingspace.client import ThingSpaceClient
from fota_tui.providers.thingspace.normalize import DeviceChange

__all__ = ["DeviceChange", "ThingSpaceClient"]
