"""Rollout files: a campaign file (``specfile.py``) with a ``[rollout]`` table, the wave
plan (``plan.py``). Every problem becomes one ``ConfigError`` naming the file and keys."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from fota_tui.config.store import problems_error
from fota_tui.errors import ConfigError
from fota_tui.models import CampaignSpec, utcnow
from fota_tui.services.campaigns.specfile import collect_spec_data, read_file_table
from fota_tui.services.rollouts.plan import WavePlan, parse_plan


@dataclass(frozen=True)
class RolloutFile:
    path: Path
    spec: CampaignSpec
    plan: WavePlan


def load_rollout_file(path: Path | str, *, now: Callable[[], datetime] = utcnow) -> RolloutFile:
    path, data = read_file_table(path, "a rollout TOML file")
    if "rollout" not in data:
        raise ConfigError(
            "no [rollout] table: a rollout file is a campaign file with a [rollout] table"
            ' (waves = ["1%", "10%", "50%", "100%"] at least); see the README',
            path=str(path),
            key="rollout",
        )
    campaign = {k: v for k, v in data.items() if k not in ("rollout", "split")}
    plan, problems = parse_plan(data.get("rollout"))
    loaded, spec_problems = collect_spec_data(campaign, path=path, now=now)
    found: list[tuple[str | None, str]] = [*spec_problems, *problems]
    if found or loaded is None or plan is None:
        raise problems_error(path, found)
    return RolloutFile(path=path, spec=loaded.spec, plan=plan)
