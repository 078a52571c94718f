"""A realistic ThingSpace account: LTE-M/NB-IoT modules with IMEIs, a firmware catalogue
named the way ThingSpace names images, v3 campaigns and a few v1 upgrades in every state."""

from __future__ import annotations

import random
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from fota_tui.models import ProviderKind
from fota_tui.sim.fleet import SimDevice, SimFirmware, SimJob
from fota_tui.sim.seed import STANDARD_MIX, JobTemplate, seed_jobs

if TYPE_CHECKING:
    from fota_tui.sim.dialects.thingspace.dialect import ThingSpaceDialect

KIND = ProviderKind.THINGSPACE


@dataclass(frozen=True)
class ModelSpec:
    make: str
    model: str
    tac: str  # first 8 IMEI digits
    share: float
    prefix: str  # firmware image name prefix
    versions: tuple[str, str, str]  # factory, current release, next release
    protocols: tuple[str, str]  # of the two images
    notes: tuple[str, str]


MODELS = (
    ModelSpec(
        "SEQUANS Communications", "GM01Q", "35297911", 0.40, "SEQUANSCommunications_GM01Q",
        ("SR1.2.0.0-10512", "SR1.2.0.0-10657", "SR1.2.1.0-11096"), ("LWM2M", "LWM2M"),
        ("LTE-M PSM fixes and improved coverage enhancement mode B",
         "Security update: TLS 1.2 cipher suite hardening"),
    ),
    ModelSpec(
        "Telit", "ME910C1", "35234911", 0.35, "Telit_ME910C1",
        ("M0B.660006", "M0B.730005", "M0B.730011"), ("LWM2M", "OMA-DM"),
        ("Verizon certification release, eDRX timer fixes",
         "OMA-DM client update; fixes FOTA resume after power loss"),
    ),
    ModelSpec(
        "Quectel", "BG96", "86695603", 0.25, "Quectel_BG96",
        ("BG96MAR02A07M1G", "BG96MAR02A08M1G", "BG96MAR02A09M1G"), ("LWM2M", "LWM2M"),
        ("Fixes PSM wake-up; 修复 eDRX 定时器", "Modem stability fixes for Cat-M1 band 13"),
    ),
)  # fmt: skip
AREA_CODES = ("201", "312", "415", "512", "614", "646", "704", "818", "909", "972")

# Two campaigns still in the network checks at seed time, so both "queued" spellings show.
EXTRA_V3 = (
    JobTemplate("Pilot batch", timedelta(minutes=3), timedelta(hours=20), timedelta(days=7), 0.02),
    JobTemplate("Regional wave", timedelta(minutes=6), timedelta(days=1), timedelta(days=7), 0.03),
)
V1_LABELS = ("Q3 rollout", "Hotfix pilot", "November rollout", "Next week")


def catalogue(now: datetime) -> list[SimFirmware]:
    images = []
    for n, spec in enumerate(MODELS):
        for step in range(2):
            before, after = spec.versions[step], spec.versions[step + 1]
            images.append(
                SimFirmware(
                    kind=KIND,
                    firmware_id=f"{spec.prefix}_{before}_{after}",
                    name=f"{spec.prefix}_{before}_{after}",
                    version=after,
                    from_version=before,
                    make=spec.make,
                    model=spec.model,
                    device_type="module",
                    url="",
                    released_at=now - timedelta(days=200 - 90 * step - 7 * n, hours=3 * n),
                    protocol=spec.protocols[step],
                    description=spec.notes[step],
                )
            )
    return images


def fast_imei(rng: random.Random, tac: str) -> str:
    """A Luhn-valid 15-digit IMEI (8-digit TAC + 6-digit serial + check digit)."""
    body = tac + f"{rng.getrandbits(20) % 1_000_000:06d}"
    total = 0
    for i, ch in enumerate(reversed(body)):
        d = (ord(ch) - 48) * (1 if i % 2 else 2)
        total += d - 9 if d > 9 else d
    return body + str(-total % 10)


def _model_of(count: int) -> list[ModelSpec]:
    """Models in the documented shares, deterministic for a count."""
    specs: list[ModelSpec] = []
    for spec in MODELS:
        specs.extend([spec] * round(count * spec.share))
    return (specs + [MODELS[0]] * count)[:count]


def seed_devices(count: int, rng: random.Random, now: datetime) -> list[SimDevice]:
    devices, seen = [], set()
    for spec in _model_of(count):
        number = fast_imei(rng, spec.tac)
        while number in seen:
            number = fast_imei(rng, spec.tac)
        seen.add(number)
        r = rng.random()
        devices.append(
            SimDevice(
                kind=KIND,
                device_id=number,
                imei=number,
                name=f"{spec.model}-{number[-4:]}",
                make=spec.make,
                model=spec.model,
                device_type="module",
                firmware=spec.versions[1] if r < 0.08 else spec.versions[0],
                online=rng.random() < 0.85,
                created_at=now - timedelta(days=30 + 870 * rng.random()),
                extra={
                    "mdn": rng.choice(AREA_CODES) + f"{rng.randrange(10**7):07d}",
                    "fota_eligible": r < 0.97,
                    "license": rng.random() < 0.93,
                },
            )
        )
    return devices


def seed_account(dialect: ThingSpaceDialect, count: int, rng: random.Random) -> None:
    fleet = dialect.fleet
    now = fleet.now()
    images = catalogue(now)
    fleet.firmware[KIND].extend(images)
    devices = seed_devices(count, rng, now)
    for device in devices:
        fleet.add_device(device)
    first = [fw for fw in images if fw.from_version in {m.versions[0] for m in MODELS}]

    def v3(job: SimJob, template: JobTemplate) -> None:
        job.meta.update(dialect.job_meta("v3", protocol=job.firmware.protocol))
        if template.label == "Canary":
            job.name = f"Piloto São Paulo {job.firmware.version}"

    def v1(job: SimJob, template: JobTemplate) -> None:
        job.name = ""
        job.meta.update(dialect.job_meta("v1"))

    seed_jobs(fleet, devices, first, rng, dialect.new_campaign_id, mix=(*STANDARD_MIX, *EXTRA_V3),
              on_created=v3)  # fmt: skip
    v1_mix = [replace(t, share=t.share * 0.3) for t in STANDARD_MIX if t.label in V1_LABELS]
    seed_jobs(fleet, devices, first[1:] + first[:1], rng, fleet.uuid, mix=v1_mix, on_created=v1)
