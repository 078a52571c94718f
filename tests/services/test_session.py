"""ConsoleSession: clients per provider, snapshots into the store, stale state, cache, history."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from fota_tui.config.schema import AovxConfig, OneNetConfig, Profile
from fota_tui.errors import ProviderRejected, ProviderUnavailable, SecretError
from fota_tui.models import (
    AuthState,
    Campaign,
    CampaignDetail,
    CampaignState,
    Capabilities,
    Device,
    DeviceUpgrade,
    ProviderKind,
    UpgradeState,
)
from fota_tui.services.scheduler import HealthChanged, RefreshFailed, RefreshSucceeded
from fota_tui.services.session import Applied, CacheLoaded, ConsoleSession, SessionEvent

T0 = datetime(2026, 11, 22, 8, 0, tzinfo=UTC)


class Clock:
    def __init__(self) -> None:
        self.at = T0

    def now(self) -> datetime:
        return self.at


class Limiter:
    calls = 100
    remaining = 87
    period = 60.0


class PaceLimiter(Limiter):
    """A per-second pace: it refills between two looks, so its figure is never shown."""

    calls, remaining, period = 280, 245, 1.0


class FakeClient:
    """A scripted adapter: ``fail`` makes the next listings raise it."""

    capabilities = Capabilities()

    def __init__(self, name: str, kind: ProviderKind, devices: int = 3) -> None:
        self.name = name
        self.kind = kind
        self.count = devices
        self.fail: Exception | None = None
        self.state = UpgradeState.IN_PROGRESS
        self.history_error: Exception | None = None
        self.closed = False

    def _device(self, i: int) -> Device:
        return Device(
            provider=self.name,
            kind=self.kind,
            device_id=f"{self.name}-d{i}",
            imei=f"35000000000000{i}" if self.kind is ProviderKind.ONENET else None,
            model="X100",
            firmware="1.0",
        )

    async def devices(self) -> AsyncIterator[Device]:
        if self.fail is not None:
            raise self.fail
        for i in range(self.count):
            yield self._device(i)

    async def upgrades(self) -> AsyncIterator[DeviceUpgrade]:
        for i in range(self.count):
            yield self._upgrade(i, self.state if i == 0 else UpgradeState.SUCCEEDED)

    def _upgrade(self, i: int, state: UpgradeState, campaign: str = "c1") -> DeviceUpgrade:
        return DeviceUpgrade(
            provider=self.name,
            kind=self.kind,
            device_id=f"{self.name}-d{i}",
            campaign_id=campaign,
            state=state,
            provider_status_raw="RAW",
            firmware_from="1.0",
            firmware_to="1.1",
            updated_at=T0 - timedelta(minutes=i),
        )

    async def campaigns(self) -> list[Campaign]:
        return [
            Campaign(
                provider=self.name,
                kind=self.kind,
                campaign_id="c1",
                state=CampaignState.IN_PROGRESS,
                start_at=T0 - timedelta(hours=1),
            ),
            Campaign(
                provider=self.name,
                kind=self.kind,
                campaign_id="c0",
                state=CampaignState.SUCCEEDED,
                start_at=T0 - timedelta(days=3),
            ),
        ]

    async def campaign(self, campaign_id: str) -> CampaignDetail:
        campaign = (await self.campaigns())[0]
        return CampaignDetail(campaign=campaign, devices=(self._upgrade(0, self.state),))

    async def device_history(self, device_id: str) -> list[DeviceUpgrade]:
        if self.history_error is not None:
            raise self.history_error
        tail = device_id.rsplit("-d", 1)[-1]
        i = int(tail) if tail.isdigit() and len(tail) < 3 else 0
        older = self._upgrade(i, UpgradeState.FAILED, "c0")
        older = older.model_copy(update={"updated_at": T0 - timedelta(days=3)})
        return [older, self._upgrade(i, self.state, "c1")]

    async def aclose(self) -> None:
        self.closed = True


def profile(*, read_only: bool = False) -> Profile:
    return Profile(
        name="t",
        environment="staging",
        read_only=read_only,
        refresh_interval=10,
        providers=[
            AovxConfig(name="ax", token="env:AX_TOKEN", base_url="http://ax.example"),
            OneNetConfig(name="on", api_key="env:ON_KEY", verify_tls=False),
        ],  # type: ignore[list-item]
    )


def make(
    *,
    cache_dir: Path | None = None,
    publish: Any = None,
    broken: set[str] = frozenset(),  # type: ignore[assignment]
    read_only: bool | None = None,
) -> tuple[ConsoleSession, dict[str, FakeClient], Clock]:
    clients: dict[str, FakeClient] = {}
    clock = Clock()

    def factory(cfg: Any, **_: Any) -> FakeClient:
        if cfg.name in broken:
            raise SecretError(f"environment variable for {cfg.name} is not set", key="token")
        client = FakeClient(cfg.name, cfg.kind)
        clients[cfg.name] = client
        return client

    session = ConsoleSession(
        profile(),
        cache_dir=cache_dir,
        publish=publish,
        clock=clock,
        client_factory=factory,
        jitter=0.0,
        read_only=read_only,
    )
    assert not clients  # adapters are built on first use (after the first frame)
    session.clients  # noqa: B018
    return session, clients, clock


async def test_refresh_fills_store_and_views() -> None:
    session, _clients, clock = make()
    await session.refresh()
    assert len(session.store) == 6
    clock.at = T0 + timedelta(seconds=12)
    view = session.provider_view("ax")
    assert view.health == "ok" and not view.stale and view.auth is AuthState.OK
    assert view.age == 12.0 and view.device_count == 3
    assert view.counts[UpgradeState.IN_PROGRESS] == 1 and view.counts[UpgradeState.SUCCEEDED] == 2
    assert (view.active_campaigns, view.campaigns) == (1, 2)
    # http:// to a public host and verify_tls=false are both flagged, per provider
    assert any("plain http://" in w for w in view.warnings)
    assert any("verify_tls" in w for w in session.provider_view("on").warnings)


async def test_a_provider_that_cannot_build_is_failed_and_the_others_run() -> None:
    session, _clients, _ = make(broken={"ax"})
    assert "ax" not in session.clients
    await session.refresh()
    bad, good = session.provider_view("ax"), session.provider_view("on")
    assert bad.health == "error" and bad.stale
    assert bad.build_error == "Secret not available: token: environment variable for ax is not set"
    assert good.health == "ok" and good.device_count == 3


async def test_failure_marks_stale_keeps_data_and_recovers() -> None:
    events: list[SessionEvent] = []
    session, clients, _ = make(publish=events.append)
    await session.refresh()
    assert {e.provider for e in events if isinstance(e, Applied) and e.live} == {"ax", "on"}
    clients["ax"].fail = ProviderUnavailable("ax", "HTTP 503 from the platform")
    await session.refresh("ax")
    view = session.provider_view("ax")
    assert view.stale and view.health == "failing"
    assert view.stale_reason == "Unavailable: HTTP 503 from the platform"
    assert view.device_count == 3  # last good data stays
    assert next(e for e in events if isinstance(e, RefreshFailed)).provider == "ax"
    assert [e for e in events if isinstance(e, HealthChanged)] == [
        HealthChanged("ax", False, "Unavailable: HTTP 503 from the platform")
    ]
    clients["ax"].fail = None
    await session.refresh("ax")
    assert not session.provider_view("ax").stale
    assert [e.healthy for e in events if isinstance(e, HealthChanged)] == [False, True]


async def test_the_session_applies_snapshots_and_publishes_the_diff() -> None:
    """One way: the session applies, the front end only paints what it is told."""
    session, clients, _ = make()
    await session.refresh()
    clients["ax"].state = UpgradeState.FAILED
    events: list[SessionEvent] = []
    session._publish = events.append
    await session.refresh("ax")
    assert not any(isinstance(e, RefreshSucceeded) for e in events)  # never raw
    (applied,) = [e for e in events if isinstance(e, Applied)]
    diff = applied.diff
    assert applied.live and applied.provider == "ax"
    assert diff.changed == {("ax", "ax-d0")} and not diff.added and not diff.removed
    assert session.store.get(("ax", "ax-d0")).state is UpgradeState.FAILED  # type: ignore[union-attr]


async def test_cache_paints_first_and_marks_changed_rows(tmp_path: Path) -> None:
    first, _, _ = make(cache_dir=tmp_path)
    await first.refresh()
    await first.stop()  # writes the cache

    events: list[SessionEvent] = []
    second, clients, _ = make(cache_dir=tmp_path, publish=events.append)
    assert second.load_cache_now() == 2
    assert len(second.store) == 6
    view = second.provider_view("ax")
    assert view.from_cache and view.health == "unknown" and view.age == 0.0
    clients["ax"].state = UpgradeState.FAILED
    await second.refresh("ax")
    live = next(e for e in events if isinstance(e, Applied) and e.live and e.provider == "ax")
    assert isinstance(live.source, RefreshSucceeded)
    assert second.changed_keys_since_cache() == {("ax", "ax-d0")}
    assert second.changed_since_cache(("ax", "ax-d0"))
    assert not second.changed_since_cache(("ax", "ax-d1"))
    assert not second.provider_view("ax").from_cache
    # a cached snapshot arriving late never replaces live data
    assert not second.apply_snapshot(live.source.snapshot.model_copy(), cached=True)
    assert second.store.get(("ax", "ax-d0")).state is UpgradeState.FAILED  # type: ignore[union-attr]


async def test_start_loads_cache_in_background_and_publishes(tmp_path: Path) -> None:
    first, _, _ = make(cache_dir=tmp_path)
    await first.refresh()
    first.save_cache()
    events: list[SessionEvent] = []
    second, _, _ = make(cache_dir=tmp_path, publish=events.append)
    await second.start(scheduler=False)
    assert second._cache_task is not None
    await second._cache_task
    cached = [e for e in events if isinstance(e, Applied) and isinstance(e.source, CacheLoaded)]
    assert sorted(e.provider for e in cached) == ["ax", "on"]
    await second.stop(save=False)


async def test_campaigns_across_providers_active_first() -> None:
    session, _, _ = make()
    await session.refresh()
    campaigns = session.campaigns()
    assert [(c.provider, c.campaign_id) for c in campaigns] == [
        ("ax", "c1"),
        ("on", "c1"),
        ("ax", "c0"),
        ("on", "c0"),
    ]
    detail = await session.campaign_detail("ax", "c1")
    rows = session.campaign_rows(detail)
    assert [r.key for r in rows] == [("ax", "ax-d0")]
    assert rows[0].model == "X100"  # joined with the device record


async def test_device_history_merges_providers_and_reports_errors() -> None:
    session, clients, _ = make()
    await session.refresh()
    history = await session.device_history(("ax", "ax-d1"))
    assert [(u.campaign_id, u.state) for u in history.entries] == [
        ("c1", UpgradeState.IN_PROGRESS),
        ("c0", UpgradeState.FAILED),
    ]
    assert not history.errors
    clients["ax"].history_error = ProviderRejected("ax", "no such device", code="404")
    history = await session.device_history(("ax", "ax-d1"))
    assert isinstance(history.errors["ax"], ProviderRejected)
    # falls back to the snapshot's upgrades for that device
    assert [u.device_id for u in history.entries] == ["ax-d1"]


async def test_device_history_finds_the_same_imei_on_other_providers() -> None:
    session, clients, _ = make()
    await session.refresh()
    on_row = session.store.get(("on", "on-d2"))
    assert on_row is not None and on_row.imei
    # make the AOVX device carry the same IMEI as its id: both providers know it
    twin = on_row.replace(provider="ax", device_id=on_row.imei, imei=None)
    session.store.apply_rows([twin])
    history = await session.device_history(("on", "on-d2"))
    assert {r.provider for r in history.devices} == {"on", "ax"}
    assert {u.provider for u in history.entries} == {"on", "ax"}
    # a bug in one adapter is reported for that provider; the other still answers
    clients["ax"].history_error = RuntimeError("adapter bug")
    history = await session.device_history(("on", "on-d2"))
    assert "adapter bug" in history.errors["ax"].message
    assert {u.provider for u in history.entries} == {"on"}


async def test_read_only_and_rate_budget_and_close() -> None:
    session, clients, _ = make(read_only=True)
    assert session.read_only
    with pytest.raises(Exception, match="read-only"):
        session.check_writable()
    clients["ax"].limiter = Limiter()  # type: ignore[attr-defined]
    await session.refresh()
    view = session.provider_view("ax")
    assert (view.rate_remaining, view.rate_total) == (87, 100)
    assert session.provider_view("on").rate_total is None
    # a pace that refills every second would make the pane depend on the wall clock
    clients["on"].limiter = PaceLimiter()  # type: ignore[attr-defined]
    await session.refresh()
    view = session.provider_view("on")
    assert (view.rate_remaining, view.rate_total) == (None, None)
    await session.stop(save=False)
    assert all(c.closed for c in clients.values())


async def test_pause_and_refresh_state() -> None:
    session, _, _ = make()
    assert session.refresh_state == "stopped"
    await session.start()
    assert session.refresh_state in ("live", "refreshing")
    assert session.toggle_pause() is True
    assert session.paused
    await session.stop(save=False)


async def test_what_an_adapter_learnt_shows_in_its_pane() -> None:
    session, clients, _ = make()
    clients["ax"].notes = ["campaignStatus=X refused; not asked again this run"]  # type: ignore[attr-defined]
    await session.refresh()
    view = session.provider_view("ax")
    assert view.health == "ok" and not view.stale
    assert "campaignStatus=X refused; not asked again this run" in view.warnings
    assert any("plain http://" in w for w in view.warnings)  # the profile's own stay
    assert not any("refused" in w for w in session.provider_view("on").warnings)
