"""China Mobile OneNET NB-IoT (legacy api.heclouds.com): cached commands as FOTA."""

from fota_tui.providers.onenet.client import OneNetClient

__all__ = ["OneNetClient"]
