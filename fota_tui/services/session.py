"""The console's headless model: clients, fleet store, snapshots, scheduler and cache.

``ConsoleSession`` owns everything the console shows, with no Textual in sight:

- one client per provider in the profile (a provider whose config or secret fails is
  marked failed with the message; the others still run);
- the latest ``ProviderSnapshot`` per provider and a ``FleetStore`` of device rows;
- a ``RefreshScheduler`` on the profile's interval;
- the ``SnapshotCache``: cached snapshots paint at once, marked with their age, and rows
  that change after that are reported by ``changed_since_cache``.

The refresh goes one way: the session applies every snapshot to its store as it arrives
(live ones from the scheduler, cached ones from the cache) and publishes ``Applied`` with
the diff; status events (started, failed, health) pass through ``publish`` unchanged. A
front end paints diffs and never calls back into the session to apply anything; diffs it
has not painted yet can be merged (``FleetDiff.merge``).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from collections import deque
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, Protocol

from fota_tui.config.schema import Profile, insecure_transport_warnings
from fota_tui.errors import (
    FotaError,
    ProviderAuthError,
    ProviderError,
    ProviderUnsupported,
    UsageError,
)
from fota_tui.models import (
    AuthState,
    Campaign,
    CampaignDetail,
    Capabilities,
    Device,
    DeviceUpgrade,
    ProviderKind,
    Sweep,
    UpgradeState,
    state_counts,
    utcnow,
)
from fota_tui.providers import build_client
from fota_tui.providers.base import (
    AuthReporting,
    GroupSource,
    Incremental,
    Paced,
    ProviderClient,
    rate_budget,
)
from fota_tui.providers.incremental import forced
from fota_tui.services.fleet import FleetDiff, FleetRow, FleetStore, RowKey, derive_row
from fota_tui.services.scheduler import (
    HealthChanged,
    RefreshFailed,
    RefreshScheduler,
    RefreshStarted,
    RefreshSucceeded,
    SchedulerEvent,
)
from fota_tui.services.snapshot import ProviderSnapshot, fetch_snapshot
from fota_tui.services.snapshot_cache import SnapshotCache

if TYPE_CHECKING:
    import httpx

log = logging.getLogger(__name__)

CACHE_SAVE_EVERY = 300.0  # seconds between cache writes while running
RefreshState = Literal["live", "paused", "refreshing", "stopped"]
Health = Literal["ok", "failing", "unknown", "error"]


class NowClock(Protocol):
    """Anything with ``now()`` returning an aware UTC datetime (``sim.clock`` clocks fit)."""

    def now(self) -> datetime: ...


class WallClock:
    def now(self) -> datetime:
        return utcnow()


@dataclass(frozen=True)
class CacheLoaded:
    """A cached snapshot is ready to paint (published before any live data for it)."""

    provider: str
    snapshot: ProviderSnapshot
    saved_at: datetime


@dataclass(frozen=True)
class Applied:
    """A snapshot the session applied to its store, and what that changed."""

    provider: str
    source: RefreshSucceeded | CacheLoaded
    diff: FleetDiff

    @property
    def live(self) -> bool:
        return isinstance(self.source, RefreshSucceeded)


SessionEvent = SchedulerEvent | CacheLoaded | Applied
ClientFactory = Callable[..., ProviderClient]


@dataclass
class _ProviderState:
    """Mutable per-provider bookkeeping; the UI reads ``ProviderView`` instead."""

    name: str
    kind: ProviderKind
    warnings: tuple[str, ...]
    build_error: str | None = None
    snapshot: ProviderSnapshot | None = None
    from_cache: bool = False
    refreshing: bool = False
    last_error: ProviderError | None = None
    failed_at: datetime | None = None
    failures: int = 0
    retry_in: float | None = None
    live: bool = False  # at least one live snapshot this session
    last_good: datetime | None = None  # when the last refresh that answered ended
    errors: deque[ProviderIncident] = field(default_factory=lambda: deque(maxlen=ERROR_HISTORY))


ERROR_HISTORY = 20  # failed refreshes kept per provider for its view


@dataclass(frozen=True)
class ProviderIncident:
    """One failed refresh, as the provider view lists it."""

    at: datetime
    title: str
    message: str
    failures: int  # in a row, this one included


@dataclass(frozen=True)
class ProviderView:
    """What a provider pane shows, derived on demand."""

    name: str
    kind: ProviderKind
    label: str
    health: Health
    auth: AuthState
    fetched_at: datetime | None
    age: float | None  # seconds since ``fetched_at``
    from_cache: bool
    stale: bool  # the last refresh failed (data, if any, is older)
    stale_reason: str | None
    refreshing: bool
    failures: int
    retry_in: float | None
    device_count: int
    counts: Mapping[UpgradeState, int]
    active_campaigns: int
    campaigns: int
    rate_remaining: int | None
    rate_total: int | None
    warnings: tuple[str, ...]
    build_error: str | None
    last_good: datetime | None = None
    errors: tuple[ProviderIncident, ...] = ()  # newest first
    sweep: Sweep | None = None  # the last full read, where refreshes are incremental


@dataclass(frozen=True)
class DeviceHistory:
    """One device's upgrades across providers, newest first, plus per-provider errors."""

    entries: tuple[DeviceUpgrade, ...]
    errors: Mapping[str, FotaError] = field(default_factory=dict)
    devices: tuple[FleetRow, ...] = ()  # the rows that were looked up


class ConsoleSession:
    """The headless model behind the console (see the module docstring)."""

    def __init__(
        self,
        profile: Profile,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        groups: GroupSource | None = None,
        cache_dir: Path | None = None,
        publish: Callable[[SessionEvent], None] | None = None,
        clock: NowClock | None = None,
        read_only: bool | None = None,
        client_factory: ClientFactory | None = None,
        owns_clients: bool = True,
        jitter: float = 0.1,
        monotonic: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        rng: random.Random | None = None,
    ) -> None:
        self.profile = profile
        self.read_only = (
            profile.read_only if read_only is None else (read_only or profile.read_only)
        )
        self.clock: NowClock = clock or WallClock()
        self.store = FleetStore(cfg.name for cfg in profile.providers)
        self._publish = publish
        self._monotonic = monotonic
        self.cache = SnapshotCache(cache_dir, profile.name) if cache_dir is not None else None
        self.cache_saved_at: datetime | None = None  # when the loaded cache was written
        self._cache_versions: dict[str, int] = {}  # store version right after a cached paint
        self._last_save = monotonic()
        self._save_task: asyncio.Task[None] | None = None
        self._run_task: asyncio.Task[None] | None = None
        self._cache_task: asyncio.Task[None] | None = None
        self.started = False

        self._factory: ClientFactory = client_factory or build_client
        self._owns_clients = owns_clients  # else a workspace's, closed by it
        self._transport = transport
        self._groups = groups
        self._scheduler_options: dict[str, Any] = {
            "jitter": jitter,
            "monotonic": monotonic,
            "sleep": sleep,
            "rng": rng or random.Random(),
        }
        self._clients: dict[str, ProviderClient] | None = None
        self._swept_at: dict[str, datetime] = {}  # provider → its last full read
        self._count_cache: dict[str, tuple[int, Mapping[UpgradeState, int]]] = {}
        self._kept: tuple[int | None, dict[tuple[str, str], str]] | None = None
        self._scheduler: RefreshScheduler | None = None
        self._states: dict[str, _ProviderState] = {
            cfg.name: _ProviderState(cfg.name, cfg.kind, tuple(insecure_transport_warnings(cfg)))
            for cfg in profile.providers
        }

    @property
    def transport(self) -> httpx.AsyncBaseTransport | None:
        """The transport the clients use (the simulator's, in the demo and in tests)."""
        return self._transport

    @property
    def groups(self) -> GroupSource | None:
        """Where the clients list the campaigns fota-tui keeps (OneNET, AOVX)."""
        return self._groups

    @property
    def clients(self) -> dict[str, ProviderClient]:
        """One client per provider that could be built (built on first use: importing
        and constructing adapters waits until after the console's first frame)."""
        if self._clients is None:
            self._clients = {}
            for cfg in self.profile.providers:
                state = self._states[cfg.name]
                try:
                    self._clients[cfg.name] = self._factory(
                        cfg, transport=self._transport, groups=self._groups
                    )
                except FotaError as exc:
                    state.build_error = f"{exc.title}: {exc.message}"
                except ImportError as exc:  # an adapter that is not installed / built
                    state.build_error = f"No adapter for {cfg.kind.value}: {exc}"
        return self._clients

    @property
    def scheduler(self) -> RefreshScheduler:
        if self._scheduler is None:
            self._scheduler = RefreshScheduler(
                self.clients,
                self.profile.refresh_interval,
                self._on_event,
                fetch=self._fetch,
                **self._scheduler_options,
            )
        return self._scheduler

    # -- lifecycle -------------------------------------------------------------
    async def start(self, *, scheduler: bool = True) -> None:
        """Load the cache in the background and start polling (unless ``scheduler=False``)."""
        if self.started:
            return
        self.started = True
        self.clients  # build now: failures show in the panes at once  # noqa: B018
        if self.cache is not None:
            self._cache_task = asyncio.create_task(self._load_cache())
        if scheduler:
            self._run_task = asyncio.create_task(self.scheduler.run())

    async def stop(self, *, save: bool = True) -> None:
        """Stop polling, write the cache and close every client. Safe to call twice."""
        for task in (self._run_task, self._cache_task, self._save_task):
            if task is not None and not task.done():
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task
        self._run_task = self._cache_task = self._save_task = None
        if save:
            self.save_cache()
        for client in (self._clients or {}).values() if self._owns_clients else ():
            try:
                await client.aclose()
            except Exception:  # closing must never fail the exit
                log.debug("closing %s failed", client.name, exc_info=True)
        self.started = False

    @property
    def running(self) -> bool:
        return self._run_task is not None and not self._run_task.done()

    def refresh_now(self, provider: str | None = None, *, full: bool = False) -> None:
        """Ask the running scheduler to refresh now (all providers, or one); ``full``
        makes incremental providers read everything."""
        if full:
            self._ask_full(provider)
        self.scheduler.refresh_now(provider)

    def _ask_full(self, provider: str | None) -> None:
        for name, client in self.clients.items():
            if provider in (None, name) and isinstance(client, Incremental):
                client.request_full("asked")

    async def refresh(self, provider: str | None = None, *, full: bool = False) -> None:
        """Refresh now and wait for it (tests, one-shot use; ignores pause)."""
        if full:
            self._ask_full(provider)
        paused = self.scheduler.paused
        self.scheduler.paused = False
        self.scheduler.refresh_now(provider)
        try:
            await self.scheduler.tick()
        finally:
            self.scheduler.paused = paused

    def toggle_pause(self) -> bool:
        """Pause or resume polling; returns True when now paused."""
        return self.scheduler.toggle_pause()

    @property
    def paused(self) -> bool:
        return self._scheduler is not None and self._scheduler.paused

    @property
    def refresh_state(self) -> RefreshState:
        if any(s.refreshing for s in self._states.values()):
            return "refreshing"
        if self.paused:
            return "paused"
        return "live" if self.running else "stopped"

    # -- events ------------------------------------------------------------------
    async def _fetch(self, client: ProviderClient) -> ProviderSnapshot:
        snap = await fetch_snapshot(client, now=self.clock.now(), deadline=self.profile.deadline)
        return self._on_our_clock(snap)

    def _on_our_clock(self, snap: ProviderSnapshot) -> ProviderSnapshot:
        """The last full read timed on this session's clock, like ``fetched_at``."""
        sweep = snap.health.sweep
        if sweep is None:
            return snap
        if snap.health.full_read:
            self._swept_at[snap.provider] = snap.fetched_at
        at = self._swept_at.get(snap.provider, snap.fetched_at)
        health = snap.health.model_copy(update={"sweep": sweep.model_copy(update={"at": at})})
        return snap.model_copy(update={"health": health})

    def _on_event(self, event: SchedulerEvent) -> None:
        state = self._states.get(event.provider)
        if state is not None:
            if isinstance(event, RefreshStarted):
                state.refreshing = True
            elif isinstance(event, RefreshSucceeded):
                state.refreshing = False
                state.failures, state.last_error, state.retry_in = 0, None, None
                state.last_good = self.clock.now()
            elif isinstance(event, RefreshFailed):
                state.refreshing = False
                state.failures = event.failures
                state.last_error = event.error
                state.retry_in = event.retry_in
                state.failed_at = self.clock.now()
                error = event.error
                state.errors.append(
                    ProviderIncident(state.failed_at, error.title, error.message, event.failures)
                )
        self._emit(event)

    def _emit(self, event: SessionEvent) -> None:
        if isinstance(event, RefreshSucceeded):
            event = Applied(event.provider, event, self.apply_snapshot(event.snapshot))
        elif isinstance(event, CacheLoaded):
            diff = self.apply_snapshot(event.snapshot, cached=True)
            event = Applied(event.provider, event, diff)
        if self._publish is not None:
            self._publish(event)

    def apply_snapshot(self, snapshot: ProviderSnapshot, *, cached: bool = False) -> FleetDiff:
        """Make ``snapshot`` the provider's data and update the store; returns the diff.

        A cached snapshot never replaces live data, and a snapshot for a provider the
        profile does not have is ignored (both return an empty diff).
        """
        state = self._states.get(snapshot.provider)
        if state is None or (cached and state.live):
            return FleetDiff(version=self.store.version)
        diff = self.store.replace_provider(snapshot.provider, snapshot.devices, snapshot.upgrades)
        state.snapshot = snapshot
        state.from_cache = cached
        if cached:
            self._cache_versions[snapshot.provider] = self.store.version
        else:
            state.live = True
            self._maybe_save()
        return diff

    # -- cache -------------------------------------------------------------------
    async def _load_cache(self) -> None:
        assert self.cache is not None
        loaded = await asyncio.to_thread(self.cache.load)
        if loaded is None:
            return
        saved_at, snapshots = loaded
        self.cache_saved_at = saved_at
        for name, snapshot in snapshots.items():
            state = self._states.get(name)
            if state is not None and not state.live and snapshot.provider == name:
                self._emit(CacheLoaded(name, snapshot, saved_at))

    def load_cache_now(self) -> int:
        """Load and apply the cache synchronously (headless use); returns providers painted."""
        if self.cache is None or (loaded := self.cache.load()) is None:
            return 0
        self.cache_saved_at, snapshots = loaded
        painted = 0
        for name, snapshot in snapshots.items():
            if name in self._states and snapshot.provider == name:
                self.apply_snapshot(snapshot, cached=True)
                painted += 1
        return painted

    def save_cache(self) -> None:
        """Write the latest snapshot of every provider (no-op without a cache dir)."""
        snapshots = self.snapshots()
        if self.cache is not None and snapshots:
            self.cache.save(snapshots)
            self._last_save = self._monotonic()

    def _maybe_save(self) -> None:
        if self.cache is None or self._monotonic() - self._last_save < CACHE_SAVE_EVERY:
            return
        if self._save_task is not None and not self._save_task.done():
            return
        self._last_save = self._monotonic()
        snapshots = self.snapshots()
        cache = self.cache
        try:
            self._save_task = asyncio.get_running_loop().create_task(
                asyncio.to_thread(cache.save, snapshots)
            )
        except RuntimeError:  # no loop (synchronous use): write now
            cache.save(snapshots)

    def changed_since_cache(self, key: RowKey) -> bool:
        """True when a row changed after its provider's cached snapshot was painted."""
        version = self._cache_versions.get(key[0])
        return version is not None and self.store.is_changed_since(key, version)

    def cache_mark_version(self) -> int | None:
        """The store version after the last cached paint: rows newer than it changed since."""
        return max(self._cache_versions.values(), default=None)

    def changed_keys_since_cache(self) -> set[RowKey]:
        keys: set[RowKey] = set()
        for provider, version in self._cache_versions.items():
            keys |= {k for k in self.store.changed_since(version) if k[0] == provider}
        return keys

    # -- derived views -------------------------------------------------------------
    @property
    def provider_names(self) -> list[str]:
        return list(self._states)

    def snapshots(self) -> dict[str, ProviderSnapshot]:
        return {n: s.snapshot for n, s in self._states.items() if s.snapshot is not None}

    def snapshot(self, provider: str) -> ProviderSnapshot | None:
        state = self._states.get(provider)
        return state.snapshot if state else None

    def provider_view(self, name: str, now: datetime | None = None) -> ProviderView:
        state = self._states[name]
        now = now or self.clock.now()
        snap = state.snapshot
        client = (self._clients or {}).get(name)
        health: Health
        if state.build_error:
            health = "error"
        elif state.last_error is not None:
            health = "failing"
        elif state.live:
            health = "ok"
        else:
            health = "unknown"
        auth = _auth_state(client, state)
        remaining, total = _rate_budget(client, snap)
        campaigns = snap.campaigns if snap else ()
        error = state.last_error
        return ProviderView(
            name=name,
            kind=state.kind,
            label=state.kind.label,
            health=health,
            auth=auth,
            fetched_at=snap.fetched_at if snap else None,
            age=(now - snap.fetched_at).total_seconds() if snap else None,
            from_cache=state.from_cache,
            stale=error is not None or state.build_error is not None,
            stale_reason=(
                f"{error.title}: {error.message}" if error is not None else state.build_error
            ),
            refreshing=state.refreshing,
            failures=state.failures,
            retry_in=state.retry_in,
            device_count=self.store.count(name) if snap else 0,
            counts=self._counts(name) if snap else state_counts(()),
            active_campaigns=sum(1 for c in campaigns if c.active),
            campaigns=len(campaigns),
            rate_remaining=remaining,
            rate_total=total,
            warnings=state.warnings + (snap.health.warnings if snap else ()) + _forced(snap),
            build_error=state.build_error,
            last_good=state.last_good,
            errors=tuple(reversed(state.errors)),
            sweep=snap.health.sweep if snap else None,
        )

    def _counts(self, provider: str) -> Mapping[UpgradeState, int]:
        """Per-state counts, counted again only after the store changed (panes ask on
        every clock tick; an idle console must not walk the fleet each second)."""
        version = self.store.version
        cached = self._count_cache.get(provider)
        if cached is None or cached[0] != version:
            cached = (version, self.store.state_counts(provider))
            self._count_cache[provider] = cached
        return cached[1]

    def provider_views(self, now: datetime | None = None) -> list[ProviderView]:
        now = now or self.clock.now()
        return [self.provider_view(name, now) for name in self._states]

    def campaign_names(self) -> dict[tuple[str, str], str]:
        """Campaign names by (provider, campaign id), where a platform gave one."""
        return {
            (c.provider, c.campaign_id): c.name
            for s in self._states.values()
            if s.snapshot
            for c in s.snapshot.campaigns
            if c.name
        }

    def kept_names(self) -> dict[tuple[str, str], str]:
        """The names fota-tui keeps for campaigns of platforms that name them themselves
        (OceanConnect), by (provider, campaign id), from the journal."""
        from fota_tui.services.campaigns.journal import Journal

        journal = self._groups
        if not isinstance(journal, Journal):
            return {}
        unnamed = {
            name
            for name, client in (self._clients or {}).items()
            if not client.capabilities.campaign_names
        }
        if not unnamed:
            return {}
        stamp = journal.stamp()
        if self._kept is not None and self._kept[0] == stamp and stamp is not None:
            return self._kept[1]  # the journal is read again only after it changed
        kept: dict[tuple[str, str], str] = {}
        for entry in journal.entries():
            name = entry.campaign_name or entry.spec.get("name")
            if entry.provider in unnamed and name:
                for campaign_id in entry.campaign_ids:
                    kept[(entry.provider, campaign_id)] = str(name)
        self._kept = (stamp, kept)
        return kept

    def campaigns(self) -> list[Campaign]:
        """Every campaign across providers: active first, then newest first."""
        found = [c for s in self._states.values() if s.snapshot for c in s.snapshot.campaigns]

        def newest(c: Campaign) -> float:
            when = c.start_at or c.created_at
            return -when.timestamp() if when else 0.0

        return sorted(found, key=lambda c: (not c.active, newest(c), c.provider, c.campaign_id))

    def find_campaign(self, provider: str, campaign_id: str) -> Campaign | None:
        snap = self.snapshot(provider)
        if snap is None:
            return None
        return next((c for c in snap.campaigns if c.campaign_id == campaign_id), None)

    def capabilities(self, provider: str) -> Capabilities | None:
        """What ``provider``'s platform can do; None when its client could not open."""
        try:
            return self.client(provider).capabilities
        except FotaError:
            return None

    def client(self, provider: str) -> ProviderClient:
        """The live client of a provider (``UsageError`` if it failed to build)."""
        try:
            return self.clients[provider]
        except KeyError:
            state = self._states.get(provider)
            reason = state.build_error if state else "not in this profile"
            raise UsageError(f"provider '{provider}' is not available ({reason})") from None

    def check_writable(self) -> None:
        """Raise ``UsageError`` when the session is read-only (call before any change)."""
        if self.read_only:
            raise UsageError(
                f"profile '{self.profile.name}' is read-only; nothing can be changed",
                title="Read-only",
            )

    # -- on-demand reads -------------------------------------------------------------
    async def campaign_detail(self, provider: str, campaign_id: str) -> CampaignDetail:
        """One campaign with its per-device records (raises ``ProviderError``)."""
        return await self.client(provider).campaign(campaign_id)

    def campaign_rows(self, detail: CampaignDetail) -> list[FleetRow]:
        """Device-table rows for a campaign: its upgrades joined with known devices."""
        snap = self.snapshot(detail.campaign.provider)
        devices: dict[str, Device] = {d.device_id: d for d in snap.devices} if snap else {}
        rows: dict[RowKey, FleetRow] = {}
        for upgrade in detail.devices:
            device = devices.get(upgrade.device_id)
            if device is not None and device.provider != upgrade.provider:
                device = None
            row = derive_row(device, upgrade)
            rows[row.key] = row
        return list(rows.values())

    def campaign_rows_from_snapshot(self, provider: str, campaign_id: str) -> list[FleetRow]:
        """A campaign's rows from the provider's latest snapshot (when the detail call fails)."""
        snap = self.snapshot(provider)
        if snap is None:
            return []
        upgrades = tuple(u for u in snap.upgrades if u.campaign_id == campaign_id)
        campaign = self.find_campaign(provider, campaign_id)
        if campaign is None:
            return []
        return self.campaign_rows(CampaignDetail(campaign=campaign, devices=upgrades))

    async def device_history(self, key: RowKey, row: FleetRow | None = None) -> DeviceHistory:
        """The device's upgrades on every provider that knows it (same id or IMEI).

        ``row`` describes the device when it is not in the fleet store (e.g. a row of a
        campaign table). Each provider's ``device_history`` is asked concurrently; one
        that cannot answer falls back to the upgrades in its latest snapshot and its
        error is reported.
        """
        rows = self._same_device(key, row)
        errors: dict[str, FotaError] = {}

        async def one(item: FleetRow) -> list[DeviceUpgrade]:
            try:
                return list(await self.client(item.provider).device_history(item.device_id))
            except ProviderUnsupported:
                pass
            except FotaError as exc:
                errors[item.provider] = exc
            except Exception as exc:  # a bug in one adapter must not hide the others
                log.exception("device history from %s failed unexpectedly", item.provider)
                errors[item.provider] = ProviderError(item.provider, f"unexpected error: {exc!r}")
            return self._snapshot_history(item)

        results = await asyncio.gather(*(one(item) for item in rows))
        entries: dict[tuple[Any, ...], DeviceUpgrade] = {}
        for upgrade in (u for batch in results for u in batch):
            ident = (upgrade.provider, upgrade.device_id, upgrade.campaign_id, upgrade.created_at)
            entries.setdefault(ident, upgrade)
        ordered = sorted(entries.values(), key=_history_when, reverse=True)
        return DeviceHistory(tuple(ordered), errors, tuple(rows))

    def _same_device(self, key: RowKey, given: FleetRow | None = None) -> list[FleetRow]:
        row = self.store.get(key) or given
        if row is None:
            return []
        ids = {row.device_id}
        if row.imei:
            ids.add(row.imei)
        found = [row]
        for other in self.store:
            if other.key != key and (other.device_id in ids or (other.imei and other.imei in ids)):
                found.append(other)
        return found

    def _snapshot_history(self, row: FleetRow) -> list[DeviceUpgrade]:
        snap = self.snapshot(row.provider)
        if snap is None:
            return []
        return [u for u in snap.upgrades if u.device_id == row.device_id]


def _history_when(upgrade: DeviceUpgrade) -> float:
    when = upgrade.updated_at or upgrade.created_at
    return when.timestamp() if when else float("-inf")


def _forced(snap: ProviderSnapshot | None) -> tuple[str, ...]:
    """A full read forced by a mismatch or a failed incremental read, said in the pane."""
    if snap is None or not snap.health.full_read or snap.health.sweep is None:
        return ()
    reason = snap.health.sweep.reason
    return (f"read in full: {reason}",) if forced(reason) else ()


def _auth_state(client: ProviderClient | None, state: _ProviderState) -> AuthState:
    if isinstance(state.last_error, ProviderAuthError):
        return AuthState.FAILED
    live = client.auth_state if isinstance(client, AuthReporting) else None
    if isinstance(live, AuthState) and live is not AuthState.UNKNOWN:
        return live
    if state.snapshot is not None and not state.from_cache:
        return state.snapshot.health.auth
    return AuthState.UNKNOWN


def _rate_budget(
    client: ProviderClient | None, snap: ProviderSnapshot | None
) -> tuple[int | None, int | None]:
    if isinstance(client, Paced) and client.limiter is not None:
        return rate_budget(client.limiter)
    if snap is not None:
        return snap.health.rate_limit_remaining, snap.health.rate_limit_total
    return None, None


def rows_for(store: FleetStore, keys: Iterable[RowKey]) -> list[FleetRow]:
    """The present rows for ``keys`` (missing keys skipped)."""
    return [row for key in keys if (row := store.get(key)) is not None]


__all__ = [
    "Applied",
    "CacheLoaded",
    "ConsoleSession",
    "DeviceHistory",
    "HealthChanged",
    "NowClock",
    "ProviderIncident",
    "ProviderView",
    "RefreshFailed",
    "RefreshStarted",
    "RefreshState",
    "RefreshSucceeded",
    "SessionEvent",
]
