"""Helpers the dialects use to seed a realistic fleet with jobs in every state."""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from fota_tui.sim.fleet import Reason, SimDevice, SimFirmware, SimFleet, SimJob


def imei(rng: random.Random, tac: str = "35") -> str:
    """A 15-digit IMEI with a valid Luhn check digit."""
    body = tac + "".join(str(rng.randrange(10)) for _ in range(14 - len(tac)))
    total = 0
    for i, ch in enumerate(reversed(body)):
        d = int(ch)
        if i % 2 == 0:
            d *= 2
            d -= 9 if d > 9 else 0
        total += d
    return body + str((10 - total % 10) % 10)


@dataclass(frozen=True)
class JobTemplate:
    """One job of the standard mix, timed relative to the fleet's 'now'."""

    label: str
    created: timedelta  # before now
    start: timedelta  # after creation
    duration: timedelta  # end - start
    share: float  # of the compatible devices
    cancel_after: timedelta | None = None  # after creation
    reject_share: float = 0.0  # targets the platform rejects at validation
    windows: tuple[tuple[int, int], ...] = ()


STANDARD_MIX = (
    JobTemplate("Q3 rollout", timedelta(days=40), timedelta(hours=1), timedelta(days=7), 0.30),
    JobTemplate(
        "Hotfix pilot",
        timedelta(days=12),
        timedelta(hours=2),
        timedelta(days=5),
        0.12,
        reject_share=0.05,
    ),
    JobTemplate(
        "Security patch",
        timedelta(days=6),
        timedelta(hours=1),
        timedelta(days=7),
        0.10,
        cancel_after=timedelta(hours=3),
    ),
    JobTemplate(
        "Night window",
        timedelta(days=2),
        timedelta(hours=1),
        timedelta(days=7),
        0.10,
        windows=((0, 6),),
    ),
    JobTemplate(
        "November rollout", timedelta(minutes=40), timedelta(minutes=5), timedelta(days=6), 0.25
    ),
    JobTemplate("Canary", timedelta(minutes=4), timedelta(minutes=1), timedelta(days=3), 0.04),
    JobTemplate("Next week", timedelta(hours=3), timedelta(days=3), timedelta(days=7), 0.06),
    JobTemplate(
        "Just submitted", timedelta(seconds=10), timedelta(minutes=10), timedelta(days=5), 0.03
    ),
)


def seed_jobs(
    fleet: SimFleet,
    devices: Sequence[SimDevice],
    catalog: Sequence[SimFirmware],
    rng: random.Random,
    make_job_id: Callable[[], str],
    *,
    now: datetime | None = None,
    mix: Sequence[JobTemplate] = STANDARD_MIX,
    on_created: Callable[[SimJob, JobTemplate], None] | None = None,
) -> list[SimJob]:
    """Create the standard mix of jobs over ``devices`` using firmware from ``catalog``."""
    now = now or fleet.now()
    by_model: dict[str, list[SimDevice]] = {}
    for device in devices:
        by_model.setdefault(device.model, []).append(device)
    jobs = []
    for i, template in enumerate(mix):
        firmware = catalog[i % len(catalog)]
        pool = by_model.get(firmware.model) or list(devices)
        size = max(1, round(len(pool) * template.share))
        chosen = rng.sample(pool, min(size, len(pool)))
        created = now - template.created
        rejected = {
            d.device_id: Reason.DEVICE_REJECTED
            for d in chosen
            if template.reject_share and rng.random() < template.reject_share
        }
        job = fleet.create_job(
            firmware.kind,
            job_id=make_job_id(),
            name=f"{template.label} {firmware.version}",
            firmware=firmware,
            device_ids=[d.device_id for d in chosen],
            created_at=created,
            start_at=created + template.start,
            end_at=created + template.start + template.duration,
            windows=list(template.windows),
            rejected=rejected,
        )
        if template.cancel_after is not None:
            fleet.cancel_job(job, created + template.cancel_after)
        if on_created is not None:
            on_created(job, template)
        jobs.append(job)
    return jobs
