"""Seed an OceanConnect fleet: NB-IoT meters and detectors, packages, groups, tasks."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta

from fota_tui.sim.dialects.oceanconnect.common import MAX_TARGETS, fmt_time
from fota_tui.sim.dialects.oceanconnect.tasks import (
    KIND,
    PACKAGE_TYPES,
    SimGroup,
    target_json,
)
from fota_tui.sim.fleet import SimDevice, SimFirmware, SimFleet, SimJob
from fota_tui.sim.seed import JobTemplate, seed_jobs

DEVICE_STATES = (("OFFLINE", 60), ("ABNORMAL", 25), ("INACTIVE", 15))


@dataclass(frozen=True)
class Model:
    manufacturer: str
    manufacturer_id: str
    model: str
    device_type: str
    prefix: str
    cn_prefix: str  # a few devices carry Chinese names, as operators name them
    share: float
    firmware: tuple[str, str, str]  # installed base, interim, latest
    software: tuple[str, str]  # installed, latest


MODELS = (
    Model(
        "Huawei",
        "huawei-nb",
        "Boudica150",
        "WaterMeter",
        "WM",
        "水表-南山",
        0.45,
        ("V100R001C10B010", "V100R001C10B012", "V100R001C10B015"),
        ("V200R001C00B101", "V200R001C00B105"),
    ),
    Model(
        "Quectel",
        "quectel",
        "BC95-B8",
        "SmokeDetector",
        "SD",
        "烟感-福田",
        0.35,
        ("V150R100C10B200", "V150R100C10B205", "V150R100C10B210"),
        ("V210R002C00B010", "V210R002C00B011"),
    ),
    Model(
        "Quectel",
        "quectel",
        "BC28",
        "GasMeter",
        "GM",
        "燃气表-宝安",
        0.20,
        ("V160R001C20B300", "V160R001C20B302", "V160R001C20B310"),
        ("V220R001C00B001", "V220R001C00B003"),
    ),
)


def _uuid(rng: random.Random) -> str:
    h = f"{rng.getrandbits(128):032x}"
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


_DOUBLED = [int(c) for c in "0246813579"]  # Luhn: 2*d with digits summed


def _imei(rng: random.Random) -> str:
    """A 15-digit Luhn-valid IMEI with a Chinese TAC prefix (fast: one draw)."""
    body = f"86{rng.randrange(10**12):012d}"
    total = sum(_DOUBLED[int(ch)] if i % 2 == 0 else int(ch) for i, ch in enumerate(reversed(body)))
    return body + str((10 - total % 10) % 10)


def _hex24(rng: random.Random) -> str:
    return f"{rng.getrandbits(96):024x}"


def seed_devices(fleet: SimFleet, count: int, rng: random.Random) -> list[SimDevice]:
    now = fleet.now()
    start = len(fleet.devices[KIND])
    models = list(MODELS)
    weights = [m.share for m in models]
    states = [s for s, _ in DEVICE_STATES]
    state_weights = [w for _, w in DEVICE_STATES]
    picks = rng.choices(models, weights, k=count)
    devices = []
    for i in range(start, start + count):
        model = picks[i - start]
        online = rng.random() < 0.7
        status = "ONLINE" if online else rng.choices(states, state_weights)[0]
        name = f"{model.cn_prefix}-{i:06d}" if i % 40 == 7 else f"{model.prefix}-{i:06d}"
        device = SimDevice(
            kind=KIND,
            device_id=_uuid(rng),
            imei=_imei(rng),
            name=name,
            make=model.manufacturer,
            model=model.model,
            device_type=model.device_type,
            firmware=model.firmware[0] if rng.random() < 0.85 else model.firmware[1],
            online=online,
            created_at=now - timedelta(days=rng.uniform(20, 700)),
            extra={
                "status": status,
                "sw": model.software[0],
                "manufacturerId": model.manufacturer_id,
                "signalStrength": rng.randint(-115, -70),
                "batteryLevel": rng.randint(5, 100),
            },
        )
        fleet.add_device(device)
        devices.append(device)
    return devices


def seed_catalog(fleet: SimFleet, rng: random.Random) -> list[SimFirmware]:
    """Firmware and software packages per model, latest first within each model."""
    now = fleet.now()
    packages: list[SimFirmware] = []
    for n, model in enumerate(MODELS):
        base, interim, latest = model.firmware
        for version, source, age in ((latest, interim, 20 + n), (interim, base, 90 + n)):
            packages.append(
                _package(rng, model, version, source, "firmwarePackage", now - timedelta(days=age))
            )
        sw_from, sw_to = model.software
        packages.append(
            _package(rng, model, sw_to, sw_from, "softwarePackage", now - timedelta(days=45 + n))
        )
    fleet.firmware[KIND].extend(packages)
    return packages


def _package(
    rng: random.Random,
    model: Model,
    version: str,
    source: str,
    file_type: str,
    released: datetime,
) -> SimFirmware:
    kind = "firmware" if file_type == "firmwarePackage" else "software"
    return SimFirmware(
        kind=KIND,
        firmware_id=_hex24(rng),
        name=f"{model.model}_{version}",
        version=version,
        from_version=source,
        make=model.manufacturer,
        model=model.model,
        device_type=model.device_type,
        url="",
        released_at=released,
        file_type=file_type,
        protocol="CoAP",
        description=f"{model.device_type} {kind} {version}",
    )


def seed_groups(
    fleet: SimFleet, groups: dict[str, SimGroup], devices: list[SimDevice], rng: random.Random
) -> None:
    """A few named device groups per model (one with a Chinese name)."""
    for model in MODELS:
        members = [d.device_id for d in devices if d.model == model.model]
        for name, share in (
            (f"{model.device_type}-Pilot", 0.02),
            (f"{model.device_type}-Shenzhen", 0.15),
            (f"{model.cn_prefix}", 0.05),
        ):
            chosen = rng.sample(members, min(len(members), max(1, round(len(members) * share))))
            groups[name] = SimGroup(
                name, model.manufacturer, model.device_type, model.model, chosen
            )


def seed_tasks(
    fleet: SimFleet,
    groups: dict[str, SimGroup],
    devices: list[SimDevice],
    catalog: list[SimFirmware],
    rng: random.Random,
) -> list[SimJob]:
    """The standard job mix; large jobs target a device group (devices are ≤256)."""
    # Interleave firmware and software packages so both task kinds appear.
    order = [catalog[i] for i in (0, 3, 2, 6, 1, 5, 4, 8, 7) if i < len(catalog)]

    def described(job: SimJob, template: JobTemplate) -> None:
        fw = job.firmware
        operate = next(op for op, ft in PACKAGE_TYPES.items() if ft == fw.file_type)
        ids = list(job.targets)
        scope = {"manufacturerName": fw.make, "deviceType": fw.device_type, "model": fw.model}
        if len(ids) > MAX_TARGETS:
            name = f"{template.label.replace(' ', '-')}-{fw.device_type}"
            groups[name] = SimGroup(name, fw.make, fw.device_type, fw.model, ids)
            targets = target_json([name], [], scope)
        else:
            targets = target_json([], ids, {})
        custom = job.start_at - job.created_at > timedelta(minutes=5)
        retry = rng.random() < 0.4
        job.meta.update(
            operateType=operate,
            targets=targets,
            policy={
                "executeType": "custom" if custom else rng.choice(("now", "device_online")),
                "startTime": fmt_time(job.start_at) if custom else None,
                "endTime": fmt_time(job.end_at) if custom else None,
                "retryType": retry,
                "retryTimes": rng.randint(1, 5) if retry else None,
            },
        )

    return seed_jobs(fleet, devices, order, rng, lambda: _hex24(rng), on_created=described)
