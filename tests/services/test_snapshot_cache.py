from __future__ import annotations

import stat

from fota_tui.models import Device, ProviderHealth, ProviderKind, utcnow
from fota_tui.services.snapshot import ProviderSnapshot
from fota_tui.services.snapshot_cache import SnapshotCache


def snapshot(name: str) -> ProviderSnapshot:
    now = utcnow()
    health = ProviderHealth(provider=name, kind=ProviderKind.ONENET, ok=True, checked_at=now)
    device = Device(
        provider=name,
        kind=ProviderKind.ONENET,
        device_id="861234",
        name="水表-0007",
        provider_status_raw={"online": "1"},
    )
    return ProviderSnapshot(
        provider=name, kind=ProviderKind.ONENET, fetched_at=now, health=health, devices=(device,)
    )


def test_round_trip_is_private_and_exact(tmp_path):
    cache = SnapshotCache(tmp_path, "prod")
    cache.save({"cn": snapshot("cn")})
    saved_at, loaded = cache.load()  # type: ignore[misc]
    assert loaded["cn"] == snapshot("cn").model_copy(
        update={"fetched_at": loaded["cn"].fetched_at, "health": loaded["cn"].health}
    )
    assert loaded["cn"].devices[0].name == "水表-0007"
    assert stat.S_IMODE(cache.path.stat().st_mode) == 0o600
    assert saved_at.tzinfo is not None


def test_missing_or_corrupt_cache_is_ignored_not_fatal(tmp_path):
    cache = SnapshotCache(tmp_path, "prod")
    assert cache.load() is None
    cache.path.parent.mkdir(parents=True)
    cache.path.write_text("{not json")
    assert cache.load() is None
    assert cache.path.read_text() == "{not json"  # a load never rewrites
    cache.path.write_text(
        '{"version": 1, "saved_at": "2026-01-01T00:00:00+00:00", "providers": {"x": {}}}'
    )
    assert cache.load() is None
