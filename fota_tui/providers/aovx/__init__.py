"""AOVX cloud: vehicle/asset tracker platform (``token`` header, ``{code, message, data}``)."""

from fota_tui.providers.aovx.client import AovxClient
from fota_tui.providers.aovx.command import CAMPAIGN_OPTIONS

__all__ = ["CAMPAIGN_OPTIONS", "AovxClient"]
