"""Verizon ThingSpace Software Management (FOTA v1 upgrades and v3 campaigns)."""
