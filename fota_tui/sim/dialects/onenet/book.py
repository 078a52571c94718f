"""The OneNET product's state beyond the shared fleet: plain commands, per-command
cancellations, and the device / object views the dialect's handlers answer with."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import PurePosixPath
from typing import Any

from fota_tui.models import ProviderKind
from fota_tui.sim.dialects.onenet.commands import (
    Command,
    PlainCommand,
    fota_commands,
    object5,
)
from fota_tui.sim.dialects.onenet.common import (
    FOTA_INST,
    FOTA_OBJ,
    RES_RESULT,
    RES_STATE,
    RES_UPDATE,
    RES_URI,
    SUCCESS,
    bj,
)
from fota_tui.sim.fleet import Phase, SimDevice, SimFirmware, SimFleet, SimJob

_ACTIVE = (Phase.SENDING, Phase.DOWNLOADING, Phase.INSTALLING)


class CommandBook:
    """Cached commands of one product over the fleet (call under ``fleet.lock``)."""

    def __init__(self, fleet: SimFleet, kind: ProviderKind) -> None:
        self.fleet = fleet
        self.kind = kind
        self.cancelled: set[str] = set()
        self.plain: dict[str, list[PlainCommand]] = {}
        self.by_id: dict[str, SimDevice] = {}
        self.device_list: list[SimDevice] = []

    def devices(self) -> list[SimDevice]:
        devices = self.fleet.devices[self.kind]
        if len(self.device_list) != len(devices):
            self.device_list = list(devices.values())
            self.by_id = {str(d.extra.get("id")): d for d in self.device_list}
        return self.device_list

    def online(self, device: SimDevice, now: datetime) -> bool:
        """Registered now: the static flag, or busy with an upgrade step."""
        if device.online:
            return True
        for job in self.fleet.jobs_of_device(self.kind, device.device_id):
            target = job.targets.get(device.device_id)
            if target and target.step_at(now, job.cancelled_at).phase in _ACTIVE:
                return True
        return False

    def device_record(self, device: SimDevice, now: datetime) -> dict[str, Any]:
        raw_id = device.extra.get("id", 0)
        return {
            "id": raw_id if raw_id % 2 else str(raw_id),  # a number in some records
            "title": device.name,
            "desc": f"{device.device_type}, {device.make} {device.model}",
            "protocol": "LWM2M",
            "online": self.online(device, now),
            "private": True,
            "obsv": True,
            "create_time": bj(device.created_at),
            "auth_info": {device.imei: device.extra.get("imsi", "")},
            "tags": [device.device_type],
            "other": {
                "manufacturer": device.make,
                "model": device.model,
                "version": self.fleet.firmware_of(device, now),
            },
        }

    def fota_target(self, device: SimDevice, now: datetime) -> tuple[SimJob | None, Any]:
        """The newest job whose package URI reached the device."""
        best: tuple[datetime, SimJob, Any] | None = None
        for job in self.fleet.jobs_of_device(self.kind, device.device_id):
            target = job.targets.get(device.device_id)
            if target is None:
                continue
            dl_at = target.first_at(Phase.DOWNLOADING)
            if dl_at is None or dl_at > now:
                continue
            if job.cancelled_at is not None and job.cancelled_at < dl_at:
                continue
            if best is None or dl_at > best[0]:
                best = (dl_at, job, target)
        return (best[1], best[2]) if best else (None, None)

    def values(self, device: SimDevice, obj: int, now: datetime) -> dict[int, Any] | None:
        if obj == 3:
            return {0: device.make, 1: device.model, 3: self.fleet.firmware_of(device, now)}
        if obj == FOTA_OBJ:
            job, target = self.fota_target(device, now)
            state, result = object5(job, target, now)
            uri = job.firmware.url if job is not None else ""
            return {RES_URI: uri, RES_STATE: state, RES_RESULT: result}
        return None

    def read_result(self, device: SimDevice, obj: int, inst: int, res: int, at: datetime) -> Any:
        values = self.values(device, obj, at) or {}
        picked = {k: v for k, v in values.items() if res < 0 or k == res}
        return [
            {
                "obj_inst_id": max(inst, 0),
                "res": [{"res_id": k, "val": v} for k, v in picked.items()],
            }
        ]

    def add_plain(
        self,
        device: SimDevice,
        kind: str,
        obj: int,
        inst: int,
        res: int,
        created: datetime,
        valid: datetime,
        expired: datetime,
        retry: int,
        trigger: int,
        content: Any,
        args: dict[str, Any] | None = None,
        uuid: str | None = None,
    ) -> PlainCommand:
        """Plan a plain command: sent when the device next wakes up, answered 2 s later."""
        uuid = uuid or self.fleet.uuid()
        wake = 15.0 if self.online(device, created) else 3600 + int(uuid[:6], 16) % 86400
        sent_at: datetime | None = max(created, valid) + timedelta(seconds=wake)
        if sent_at is not None and sent_at >= expired:
            sent_at = None
        if kind == "READ":
            known = self.values(device, obj, created) is not None
            outcome: tuple[int, str | None] = (SUCCESS, "SUCCESS" if known else "NOT_FOUND")
        elif kind == "EXECUTE" and (obj, inst, res) == (FOTA_OBJ, FOTA_INST, RES_UPDATE):
            outcome = (SUCCESS, "METHOD_NOT_ALLOWED")  # nothing downloaded to update with
        else:
            outcome = (SUCCESS, "SUCCESS")
        plain = PlainCommand(
            uuid=uuid,
            imei=device.imei,
            type=kind,
            args=args or {"imei": device.imei, "obj_id": obj, "obj_inst_id": inst, "res_id": res},
            content=content,
            created=created,
            valid=valid,
            expired=expired,
            retry=retry,
            trigger_msg=trigger,
            sent_at=sent_at,
            outcome=outcome,
            result=(lambda at: self.read_result(device, obj, inst, res, at))
            if kind == "READ"
            else None,
        )
        self.plain.setdefault(device.imei, []).append(plain)
        return plain

    def open_fota_job(self, device: SimDevice) -> SimJob | None:
        """The newest API-created FOTA write of this device still missing its execute."""
        for job in reversed(self.fleet.jobs_of_device(self.kind, device.device_id)):
            if job.meta.get("api") and "execute" not in job.meta:
                return job
        return None

    def firmware(self, uri: str, device: SimDevice) -> SimFirmware:
        for firmware in self.fleet.firmware[self.kind]:
            if firmware.url == uri:
                return firmware
        stem = PurePosixPath(uri.split("?")[0]).stem or uri
        version = stem.rsplit("_to_", 1)[-1]
        firmware = SimFirmware(
            kind=self.kind,
            firmware_id=f"uri-{len(self.fleet.firmware[self.kind]) + 1}",
            name=f"{device.model} {version}",
            version=version,
            from_version=device.firmware,
            make=device.make,
            model=device.model,
            device_type="NB-IoT module",
            url=uri,
            released_at=self.fleet.now(),
        )
        self.fleet.firmware[self.kind].append(firmware)
        return firmware

    def commands(self, device: SimDevice, now: datetime) -> list[Command]:
        out: list[Command] = []
        for job in self.fleet.jobs_of_device(self.kind, device.device_id):
            target = job.targets.get(device.device_id)
            if target is None or target.added_at > now:
                continue
            if target.removed_at is not None and target.removed_at <= now:
                continue
            out.extend(
                fota_commands(job, target, device.imei, now, self.cancelled, self.fleet.seed)
            )
        out.extend(p.view(now) for p in self.plain.get(device.imei, []) if p.created <= now)
        return out

    def cancel(self, device: SimDevice, cmd: Command, now: datetime) -> None:
        """Cancel one waiting command; a FOTA device's upgrade stops with it."""
        self.cancelled.add(cmd.uuid)
        job = cmd.job
        if job is None:
            plain = next(p for p in self.plain[device.imei] if p.uuid == cmd.uuid)
            plain.cancelled_at = now
            return
        self.fleet.cancel_target(job, device.device_id, now)
        if job.meta.get("api"):
            uuids = {job.meta[r]["uuid"] for r in ("write", "execute") if r in job.meta}
            if uuids <= self.cancelled:
                self.fleet.cancel_job(job, now)


def command_spec(
    role: str, uuid: str, now: datetime, p: dict[str, Any], content: Any, order: int
) -> dict[str, Any]:
    return {
        "role": role,
        "uuid": uuid,
        "created": now,
        "valid": p["valid"],
        "expired": p["expired"],
        "retry": p["retry"],
        "trigger_msg": p["trigger_msg"],
        "args": p["args"],
        "content": content,
        "order": order,
    }
