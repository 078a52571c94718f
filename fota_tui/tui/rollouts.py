"""The console as a rollout driver: after each live refresh of a provider, its rollouts are
stepped with that refresh (no read of its own), and a halt is said once. A read-only
console only watches: it reads the rollouts and never steps them."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from fota_tui.errors import FotaError

if TYPE_CHECKING:
    from fota_tui.services.rollouts.engine import RolloutEngine
    from fota_tui.services.rollouts.record import Rollout, RolloutStore
    from fota_tui.services.session import ConsoleSession
    from fota_tui.services.workspace import Workspace

log = logging.getLogger(__name__)


class ConsoleRollouts:
    def __init__(
        self,
        workspace: Workspace,
        session: ConsoleSession,
        now: Callable[[], datetime],
        say: Callable[[str, str], None],
    ) -> None:
        self.workspace = workspace
        self.session = session
        self.now = now
        self.say = say
        self._engine: RolloutEngine | None = None
        self._store: RolloutStore | None = None
        self._halts_said: set[str] = set()
        self.stepping: set[str] = set()  # providers being stepped

    @property
    def store(self) -> RolloutStore:
        if self._store is None:
            from fota_tui.services.rollouts.record import RolloutStore

            self._store = RolloutStore(self.workspace.journal.folder)
        return self._store

    @property
    def engine(self) -> RolloutEngine:
        if self._engine is None:
            from fota_tui.services.rollouts.engine import RolloutEngine

            self._engine = RolloutEngine(
                self.workspace.campaigns(now=self.now),
                self.store,
                now=self.now,
                max_age=timedelta(seconds=self.workspace.profile.refresh_interval),
            )
        return self._engine

    def shown(self) -> list[Rollout]:
        """Rollouts to show: not finished, or halted and not acknowledged (newest first)."""
        if not self.store.folder.is_dir():
            return []
        found = [r for r in self.store.all() if not r.finished or not r.acknowledged]
        return sorted(found, key=lambda r: r.created_at, reverse=True)

    def due(self, provider: str) -> list[str]:
        if self.workspace.read_only or provider in self.stepping:
            return []
        if not self.store.folder.is_dir():
            return []
        return [r.rollout_id for r in self.store.all() if r.provider == provider and not r.finished]

    async def step(self, provider: str, ids: list[str]) -> bool:
        """Step ``ids`` with the provider's latest refresh; True when anything changed."""
        from fota_tui.services.rollouts.observe import Observation

        snapshot = self.session.snapshot(provider)
        observation = None
        if snapshot is not None:
            # The read's age on the session's clock, counted back from the rollouts' own
            # (a demo's fleet clock runs faster than the clock data ages are read on).
            age = self.session.clock.now() - snapshot.fetched_at
            observation = replace(Observation.of(snapshot), at=self.now() - age)
        changed = False
        self.stepping.add(provider)
        try:
            for rollout_id in ids:
                try:
                    result = await self.engine.step(rollout_id, observation)
                except FotaError as exc:  # said: it may be an outcome not recorded
                    self.say(f"{rollout_id}: {exc.title}: {exc.message}", "Rollout step failed")
                    continue
                changed |= result.changed
                self._say_halt(result.rollout)
        finally:
            self.stepping.discard(provider)
        return changed

    def _say_halt(self, rollout: Rollout) -> None:
        if rollout.state != "halted" or rollout.acknowledged:
            return
        if rollout.rollout_id in self._halts_said:
            return
        self._halts_said.add(rollout.rollout_id)
        self.say(
            f"{rollout.rollout_id} ({rollout.name}): {rollout.decisions[-1].text}",
            "Rollout halted",
        )
