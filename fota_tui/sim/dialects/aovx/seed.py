"""A realistic AOVX fleet: JT/T 808 vehicle trackers, orgs, plates, firmware and OTA sends."""

from __future__ import annotations

import random
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from fota_tui.models import ProviderKind
from fota_tui.sim.fleet import Reason, SimDevice, SimFirmware, SimFleet, SimJob
from fota_tui.sim.seed import STANDARD_MIX, JobTemplate, seed_jobs

KIND = ProviderKind.AOVX
FILE_ROOT = "http://files.aovx.example/FOTA/103"
TYPE_ID = 808
TYPE_NAME = "JT/T808-2013"


@dataclass(frozen=True)
class Model:
    name: str
    description: str
    versions: tuple[str, str, str]  # oldest → newest
    ota_type: int  # 0 app upgrade, 1 code (module) upgrade
    share: float


MODELS = (
    Model("VG300", "4G vehicle gateway", ("V2.2.8", "V2.3.0", "V2.3.1"), 0, 0.5),
    Model("GA-S10", "4G wired asset tracker", ("V1.0.7", "V1.1.0", "V1.1.2"), 1, 0.3),
    Model("A8", "4G OBD tracker", ("V3.0.2", "V3.0.9", "V3.1.0"), 0, 0.2),
)

ORGS = (
    ("5A1C0E7D2B9F4E60A3D18C27B46F9E01", "Northwind Haulage"),
    ("8E3F21C6D0A94B7F9C5E1A02D38B76C4", "上海顺达物流有限公司"),
    ("C27D9A41E6F04B3881D5C0E9A7F2B613", "Demo Fleet"),
    ("F04B6E2A91C7458DB3E0A6C5D71928FE", "深圳鹏程货运"),
)
_PROVINCES = ("沪", "粤", "京", "苏", "浙")
_PLATE_LETTERS = "ABCDEFGHJKLMNPQRSTUVWXYZ"
_DESCS = ("", "", "cold-chain trailer", "备用车辆", "pilot group")
# AOVX has no schedule, cancel or time windows: every send starts at once, none is
# cancelled; the two newest sends are recent enough to show terminals mid-download.
_RECENT = {"November rollout": timedelta(minutes=12), "Canary": timedelta(minutes=5)}
AOVX_MIX = tuple(
    replace(
        t,
        created=_RECENT.get(t.label, t.created),
        start=timedelta(0),
        cancel_after=None,
        windows=(),
    )
    for t in STANDARD_MIX
)


def version_label(model: Model, version: str) -> str:
    return f"{model.name}_{version}"


def firmware_catalog(now: datetime) -> list[SimFirmware]:
    """Two upgrades per model, as uploaded to AOVX "OTA file management"."""
    catalog = []
    for step in (1, 2):
        for model in MODELS:
            label = version_label(model, model.versions[step])
            catalog.append(
                SimFirmware(
                    kind=KIND,
                    firmware_id=f"FOTA/103/{label}.bin",
                    name=f"{label}.bin",
                    version=label,
                    from_version=version_label(model, model.versions[step - 1]),
                    make="AOVX",
                    model=model.name,
                    device_type=TYPE_NAME,
                    url=f"{FILE_ROOT}/{label}.bin",
                    released_at=now - timedelta(days=120 - 45 * step),
                    file_type="bin",
                    protocol="HTTP",
                    description=f"{model.name} {model.description}",
                )
            )
    return catalog


def _luhn_digit(body: str) -> str:
    total = 0
    for i, ch in enumerate(reversed(body)):
        d = int(ch)
        if i % 2 == 0:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return str((10 - total % 10) % 10)


def _imei(rng: random.Random) -> str:
    """A 15-digit IMEI with a Chinese TAC prefix and a Luhn check digit (fast path)."""
    body = f"86{rng.randrange(10**12):012d}"
    return body + _luhn_digit(body)


def _plate(rng: random.Random, i: int) -> str | None:
    roll = rng.random()
    if roll < 0.25:
        letters = "".join(rng.choice(_PLATE_LETTERS) for _ in range(2))
        return f"{rng.choice(_PROVINCES)}{letters[0]}·{letters[1]}{rng.randrange(1000, 10000)}"
    if roll < 0.75:
        return f"TRK-{i:05d}"
    return None  # vehicleNum is null for terminals not bound to a vehicle


def make_devices(fleet: SimFleet, count: int, rng: random.Random) -> list[SimDevice]:
    now = fleet.now()
    start = len(fleet.devices[KIND])
    weights = [m.share for m in MODELS]
    devices = []
    for n in range(count):
        i = start + n
        model = rng.choices(MODELS, weights)[0]
        terminal_id = fleet.uuid().upper() if rng.random() < 0.05 else fleet.hex_id(32, True)
        org_id, org_name = ORGS[rng.randrange(len(ORGS))]
        plate = _plate(rng, i)
        created = now - timedelta(days=rng.uniform(100, 900))
        custom = f"{model.name}-{i:05d}"
        online = rng.random() < 0.7
        device = SimDevice(
            kind=KIND,
            device_id=terminal_id,
            imei=_imei(rng),
            name=plate or custom,
            make="AOVX",
            model=model.name,
            device_type=TYPE_NAME,
            firmware=version_label(model, model.versions[rng.randrange(2)]),
            online=online,
            created_at=created,
            extra={
                "terminalNum": f"3440{50000000 + i * 7 + rng.randrange(7):08d}",
                "customNum": custom,
                "orgId": org_id,
                "orgName": org_name,
                "vehicleId": fleet.hex_id(32, True) if plate else None,
                "vehicleNum": plate,
                "simNum": f"1440{rng.randrange(10**9):09d}",
                "iccid": f"898604{rng.randrange(10**14):014d}",
                "status": 0 if rng.random() < 0.03 else 1,
                "descInfo": rng.choice(_DESCS),
                "expireTime": created + timedelta(days=3 * 365),
                "acc": None if rng.random() < 0.15 else rng.randrange(2),
                "lastFix": rng.uniform(5, 120) if online else rng.uniform(3600, 20 * 86400),
                "battery": rng.randrange(20, 101),
                "lat": 31.23 + rng.uniform(-0.5, 0.5),
                "lon": 121.47 + rng.uniform(-0.5, 0.5),
            },
        )
        fleet.add_device(device)
        devices.append(device)
    return devices


def seed_fleet(fleet: SimFleet, count: int, rng: random.Random) -> list[SimJob]:
    """Devices, the firmware catalogue and OTA sends in every status."""
    devices = make_devices(fleet, count, rng)
    catalog = firmware_catalog(fleet.now())
    fleet.firmware[KIND].extend(catalog)
    by_label = {m.name: m for m in MODELS}

    def describe(job: SimJob, template: JobTemplate) -> None:
        model = by_label[job.firmware.model]
        job.meta.update(
            type=model.ota_type,
            mode=1 if "Hotfix" in template.label else 0,
            protocol=1,
            version=job.firmware.version,
            url=job.firmware.url,
        )

    jobs = seed_jobs(
        fleet,
        devices,
        catalog,
        rng,
        lambda: fleet.hex_id(32, True),
        mix=AOVX_MIX,
        on_created=describe,
    )
    jobs.extend(_resend_failed(fleet, jobs))
    return jobs


def _resend_failed(fleet: SimFleet, jobs: list[SimJob]) -> list[SimJob]:
    """An operator re-sends, 40 s later, to the terminals the platform could not reach:
    the same terminal/version/URL then has two records within a minute."""
    resent = []
    for job in jobs:
        failed = [
            t.device_id
            for t in job.targets.values()
            if any(s.reason is Reason.DEVICE_REJECTED for s in t.steps)
        ]
        if not failed:
            continue
        at = job.created_at + timedelta(seconds=40)
        again = fleet.create_job(
            KIND,
            job_id=fleet.hex_id(32, True),
            name=f"{job.name} (re-sent)",
            firmware=job.firmware,
            device_ids=failed,
            created_at=at,
            start_at=at,
            end_at=job.end_at,
            meta=dict(job.meta),
        )
        resent.append(again)
    return resent
