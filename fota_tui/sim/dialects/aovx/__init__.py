"""The simulated AOVX: its dialect, and what the demo needs before it is built."""

from types import MappingProxyType

DIALECT = "fota_tui.sim.dialects.aovx.dialect:AovxDialect"
SHARE = 0.2  # of the simulated fleet
# The demo account, keyed like the platform's profile table. Obviously fake.
DEMO_CREDENTIALS = MappingProxyType({"username": "demo", "password": "demo-aovx-password"})
