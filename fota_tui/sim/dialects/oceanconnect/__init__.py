"""The simulated Huawei OceanConnect: its dialect, and what the demo needs before it is built."""

from types import MappingProxyType

DIALECT = "fota_tui.sim.dialects.oceanconnect.dialect:OceanConnectDialect"
SHARE = 0.25  # of the simulated fleet
# The demo account, keyed like the platform's profile table. Obviously fake.
DEMO_CREDENTIALS = MappingProxyType({"app_id": "demo-oc-app", "secret": "demo-oc-secret"})
