"""What advances rollouts: one evaluation (``step``), or evaluations until every rollout is
through (``run``). The console steps its profile's rollouts after each refresh with the
refresh it already has; headless drivers read the providers themselves first.

Any number of drivers may run at once: a step takes the rollout's lock (a busy rollout is
left to the driver holding it), reads it again, and a wave's campaign has one submission
id whoever sends it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable, Mapping
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from fota_tui.errors import FotaError
from fota_tui.services.rollouts.engine import RolloutEngine, StepResult
from fota_tui.services.rollouts.observe import Observation
from fota_tui.services.rollouts.record import Rollout, RolloutStore
from fota_tui.services.snapshot import fetch_snapshot

if TYPE_CHECKING:
    from fota_tui.services.workspace import Workspace


class Rollouts:
    """The rollouts of one opened profile."""

    def __init__(
        self,
        workspace: Workspace,
        *,
        now: Callable[[], datetime] | None = None,
        sleep: Callable[[float], Awaitable[None]] | None = None,
    ) -> None:
        self.workspace = workspace
        self.now = now or workspace.now
        self.sleep = sleep or asyncio.sleep
        self.store = RolloutStore(workspace.journal.folder)
        self.interval = workspace.profile.refresh_interval
        self.engine = RolloutEngine(
            workspace.campaigns(now=self.now),
            self.store,
            now=self.now,
            max_age=timedelta(seconds=self.interval),
        )

    def active(self, ids: Iterable[str] | None = None) -> list[Rollout]:
        """Rollouts not finished (of ``ids``, each of which must exist)."""
        if ids is not None:
            return [r for r in (self.store.get(i) for i in ids) if not r.finished]
        return [r for r in self.store.all() if not r.finished]

    async def observe(self, providers: Iterable[str]) -> dict[str, Observation]:
        """A fresh read of each provider (a failed read is an observation too)."""
        out: dict[str, Observation] = {}
        for name in dict.fromkeys(providers):
            at = self.now()
            try:
                client = self.workspace.client(name)
                snapshot = await fetch_snapshot(
                    client, at, deadline=self.workspace.profile.deadline
                )
            except FotaError as exc:
                out[name] = Observation.failed(name, at, f"{exc.title}: {exc.message}")
                continue
            out[name] = Observation.of(snapshot)
        return out

    async def step(
        self,
        ids: Iterable[str] | None = None,
        observations: Mapping[str, Observation] | None = None,
    ) -> list[StepResult]:
        """One evaluation of each active rollout (reading its provider unless given)."""
        rollouts = self.active(ids)
        if observations is None:
            observations = await self.observe(r.provider for r in rollouts if _needs_read(r))
        results = []
        for rollout in rollouts:
            results.append(
                await self.engine.step(rollout.rollout_id, observations.get(rollout.provider))
            )
        return results

    async def run(
        self,
        ids: Iterable[str] | None = None,
        *,
        on_step: Callable[[StepResult], None] | None = None,
        interval: float | None = None,
    ) -> list[Rollout]:
        """Step until every selected rollout is done, halted or aborted. Without ``ids``,
        every active rollout, including those applied while it runs."""
        chosen = list(ids) if ids is not None else None
        seen: dict[str, None] = dict.fromkeys(chosen or ())
        while True:
            results = await self.step(chosen)
            for result in results:
                seen[result.rollout.rollout_id] = None
                if on_step is not None:
                    on_step(result)
            if not results:
                return [self.store.get(i) for i in seen]
            await self.sleep(interval if interval is not None else self.interval)


def _needs_read(rollout: Rollout) -> bool:
    wave = rollout.current
    return wave is not None and wave.state in ("running", "soaking")
