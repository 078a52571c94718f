"""Huawei OceanConnect (IOCM/IODM northbound v1.5.0) adapter."""

from fota_tui.providers.oceanconnect.client import OceanConnectClient
from fota_tui.providers.oceanconnect.plan import CAMPAIGN_OPTIONS

__all__ = ["CAMPAIGN_OPTIONS", "OceanConnectClient"]
