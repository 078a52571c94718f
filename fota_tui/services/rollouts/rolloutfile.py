"""Rollout files: a campaign file (``specfile.py``) with a ``[rollout]`` table, the wave
plan (``plan.py``). Every problem becomes one ``ConfigError`` naming the file and keys."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from fota_tui.config.store import problems_error, read_toml
from fota_tui.errors import ConfigError
from fota_tui.models import CampaignSpec, utcnow
from fota_tui.services.campaigns.specfile import collect_spec_data
from fota_tui.services.rollouts.plan import WavePlan, parse_plan


@dataclass(frozen=True)
class RolloutFile:
    path: Path
    spec: CampaignSpec
    plan: WavePlan


def load_rollout_file(path: Path | str, *, now: Callable[[], datetime] = utcnow) -> RolloutFile:
    path = Path(path).expanduser()
    if path.is_dir():
        raise ConfigError("is a directory, expected a rollout TOML file", path=str(path))
    data = read_toml(path)
    if data is None:
        raise ConfigError("file not found", path=str(path))
    campaign = {k: v for k, v in data.items() if k not in ("rollout", "split")}
    plan, problems = parse_plan(data.get("rollout"))
    loaded, spec_problems = collect_spec_data(campaign, path=path, now=now)
    found: list[tuple[str | None, str]] = [*spec_problems, *problems]
    if found or loaded is None or plan is None:
        raise problems_error(path, found)
    return RolloutFile(path=path, spec=loaded.spec, plan=plan)
