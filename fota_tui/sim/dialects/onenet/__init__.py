"""The simulated China Mobile OneNET: its dialect, and what the demo needs before it is built."""

from types import MappingProxyType

DIALECT = "fota_tui.sim.dialects.onenet.dialect:OneNetDialect"
SHARE = 0.25  # of the simulated fleet
# The demo account, keyed like the platform's profile table. Obviously fake.
DEMO_CREDENTIALS = MappingProxyType({"api_key": "demo-onenet-masterkey"})
