"""The simulated Verizon ThingSpace: its dialect, and what the demo needs before it is built."""

from types import MappingProxyType

DIALECT = "fota_tui.sim.dialects.thingspace.dialect:ThingSpaceDialect"
SHARE = 0.3  # of the simulated fleet
# The demo account, keyed like the platform's profile table. Obviously fake.
DEMO_CREDENTIALS = MappingProxyType(
    {
        "account": "0000123456-00001",
        "app_key": "demo-app-key",
        "app_secret": "demo-app-secret",
        "username": "demo-user",
        "password": "demo-password",
    }
)
