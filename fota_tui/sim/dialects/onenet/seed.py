"""A realistic OneNET NB-IoT product: meters and detectors on Quectel / China Mobile modules."""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import datetime, timedelta

from fota_tui.models import ProviderKind
from fota_tui.sim.fleet import SimDevice, SimFirmware, SimFleet
from fota_tui.sim.seed import seed_jobs

KIND = ProviderKind.ONENET
FIRST_DEVICE_ID = 5241665  # OneNET device ids are plain numbers (seen as "5241665")

# (make, model, type allocation code, firmware versions in the field, weight)
MODULES = (
    ("Quectel", "BC95-G", "86697103", ("BC95GJBR01A07", "BC95GJBR01A08"), 5),
    ("China Mobile", "M5310-A", "86941403", ("M5310A_V1.0.6",), 3),
    ("Quectel", "BC28", "86733104", ("BC28JAR01A04",), 2),
)

# (model, from, to) — the package URIs written to /5/0/1.
PACKAGES = (
    ("BC95-G", "BC95GJBR01A08", "BC95GJBR01A09"),
    ("M5310-A", "M5310A_V1.0.6", "M5310A_V1.0.8"),
    ("BC28", "BC28JAR01A04", "BC28JAR01A05"),
    ("BC95-G", "BC95GJBR01A07", "BC95GJBR01A08"),
)
PACKAGE_ROOT = "http://fota.example.com/onenet"

# (device type, ASCII title stem, Chinese title stem)
KINDS_OF_DEVICE = (
    ("water meter", "water-meter", "水表"),
    ("gas meter", "gas-meter", "燃气表"),
    ("smoke detector", "smoke-detector", "烟感"),
    ("parking sensor", "parking", "地磁车检"),
)


_DOUBLED = [(2 * d) - 9 if d > 4 else 2 * d for d in range(10)]


def fast_imei(rng: random.Random, tac: str) -> str:
    """A 15-digit IMEI (TAC + serial + Luhn digit); ``seed.imei`` is too slow for 30k."""
    width = 14 - len(tac)
    body = f"{tac}{rng.randrange(10**width):0{width}d}"
    total = 0
    for i, ch in enumerate(reversed(body)):
        d = ord(ch) - 48
        total += _DOUBLED[d] if i % 2 == 0 else d
    return body + str((10 - total % 10) % 10)


def package_url(model: str, from_version: str, to_version: str) -> str:
    return f"{PACKAGE_ROOT}/{model.lower()}/{from_version}_to_{to_version}.bin"


def catalogue(now: datetime) -> list[SimFirmware]:
    makes = {model: make for make, model, *_ in MODULES}
    out = []
    for i, (model, old, new) in enumerate(PACKAGES):
        out.append(
            SimFirmware(
                kind=KIND,
                firmware_id=f"pkg-{i + 1}",
                name=f"{model} {new}",
                version=new,
                from_version=old,
                make=makes[model],
                model=model,
                device_type="NB-IoT module",
                url=package_url(model, old, new),
                released_at=now - timedelta(days=60 - 10 * i),
                file_type="firmware",
                protocol="LWM2M",
                description=f"{makes[model]} {model} differential package {old} → {new}",
            )
        )
    return out


def seed_fleet(
    fleet: SimFleet, count: int, rng: random.Random, make_job_id: Callable[[], str]
) -> None:
    """``count`` devices keyed by IMEI, the package catalogue and the standard job mix."""
    now = fleet.now()
    weights = [m[4] for m in MODULES]
    seen: set[str] = set(fleet.devices[KIND])
    devices = []
    base_id = FIRST_DEVICE_ID + len(fleet.devices[KIND])
    picks = rng.choices(MODULES, weights, k=count)
    for i, (make, model, tac, versions, _) in enumerate(picks):
        value = fast_imei(rng, tac[:4])
        while value in seen:
            value = fast_imei(rng, tac[:4])
        seen.add(value)
        dtype, ascii_stem, cn_stem = KINDS_OF_DEVICE[i % len(KINDS_OF_DEVICE)]
        number = len(seen)
        title = f"{cn_stem}-{number:04d}" if i % 7 == 3 else f"{ascii_stem}-{number:05d}"
        device = SimDevice(
            kind=KIND,
            device_id=value,  # cached commands are addressed by IMEI
            imei=value,
            name=title,
            make=make,
            model=model,
            device_type=dtype,
            firmware=versions[rng.randrange(len(versions))],
            online=rng.random() < 0.7,
            created_at=now - timedelta(days=rng.uniform(100, 700)),
            extra={
                "id": base_id + i,
                "imsi": "46004" + value[-10:],
                "observe": rng.random() < 0.9,
            },
        )
        fleet.add_device(device)
        devices.append(device)
    packages = catalogue(now)
    fleet.firmware[KIND].extend(packages)
    if devices:
        seed_jobs(fleet, devices, packages, rng, make_job_id)
