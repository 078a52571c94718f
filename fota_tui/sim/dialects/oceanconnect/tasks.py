"""OceanConnect upgrade tasks (IODM v1.5.0 ``/operations``): create, detail, subtasks, list.

Per-device state comes from the fleet's job timelines; ``WORDS`` is the one table from
neutral phases/reasons to the platform's words. Task-level ``status`` is sent in upper
case (``"FAIL"``, as in the docs' examples) and subtask ``status`` in lower case.
``extendInfo`` carries the download/update step of a processing subtask, and
``extendPara`` the package of a task; both shapes are inferred (docs/platforms/oceanconnect.md).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from fota_tui.models import ProviderKind
from fota_tui.sim.dialects.oceanconnect.common import (
    FILE_ID_RE,
    MAX_TARGETS,
    ApiError,
    fmt_time,
    paged,
    paging,
    parse_time,
)
from fota_tui.sim.fleet import Phase, Reason, SimFirmware, SimFleet, SimJob, SimTarget, Step

KIND = ProviderKind.OCEANCONNECT
EXECUTE_TYPES = ("now", "device_online", "custom")
OPERATE_TYPES = {"firmware": "firmware_upgrade", "software": "software_upgrade"}
PACKAGE_TYPES = {"firmware_upgrade": "firmwarePackage", "software_upgrade": "softwarePackage"}

# Phase → subtask status word.
WORDS: dict[Phase, str] = {
    Phase.PENDING: "wait",
    Phase.QUEUED: "wait",
    Phase.SENDING: "processing",
    Phase.DOWNLOADING: "processing",
    Phase.INSTALLING: "processing",
    Phase.SUCCEEDED: "success",
    Phase.FAILED: "fail",
    Phase.CANCELLED: "stop",
    Phase.EXPIRED: "timeout",
}
# Neutral reason → detailInfo (LwM2M firmware update result texts where they exist).
REASONS: dict[Reason, str] = {
    Reason.DOWNLOAD_FAILED: "Download package failed.",
    Reason.OUT_OF_STORAGE: "Not enough flash memory for the new firmware package.",
    Reason.OUT_OF_MEMORY: "Out of RAM during downloading process.",
    Reason.CONNECTION_LOST: "Connection lost during downloading process.",
    Reason.INTEGRITY_CHECK_FAILED: "Integrity check failure for new downloaded package.",
    Reason.UNSUPPORTED_PACKAGE: "Unsupported package type.",
    Reason.INVALID_URI: "Invalid URI.",
    Reason.UPDATE_FAILED: "Firmware update failed.",
    Reason.DEVICE_TIMEOUT: "The device did not respond before the task ended.",
    Reason.LOW_BATTERY: "Device battery level is too low to upgrade.",
    Reason.DEVICE_REJECTED: "The device version does not match the package.",
    Reason.DELIVERY_FAILED: "Failed to deliver the upgrade command to the device.",
}
STOPPED_TEXT = "The task has been stopped."
# Processing phase → extendInfo for software (swUpgradeState) and firmware (step/stepDesc).
PROGRESS: dict[Phase, tuple[str, tuple[str, str] | None]] = {
    Phase.SENDING: ("otacreated", None),
    Phase.DOWNLOADING: ("downloading", ("1", "downloading")),
    Phase.INSTALLING: ("updating", ("3", "upgrading")),
}
TASK_STATUS_FILTER = {"fail": "fail", "failed": "fail"}


@dataclass
class SimGroup:
    """A named device group (IOCM device group) usable as task targets."""

    name: str
    manufacturer: str
    device_type: str
    model: str
    device_ids: list[str] = field(default_factory=list)
    description: str = ""

    @property
    def group_id(self) -> str:
        """A stable id (IOCM device groups have one besides their name)."""
        return hashlib.sha1(self.name.encode()).hexdigest()[:24]


def sub_operation_id(job_id: str, device_id: str) -> str:
    return hashlib.blake2b(f"{job_id}:{device_id}".encode(), digest_size=12).hexdigest()


def task_status(job: SimJob, now: datetime, phases: dict[str, Step]) -> str:
    """The lower-case task status word (sent upper case)."""
    if job.cancelled_at is not None and job.cancelled_at <= now:
        return "stop"
    words = [WORDS[s.phase] for s in phases.values()]
    if not words:
        return "wait" if now < job.start_at else "success"
    if all(s.phase.terminal for s in phases.values()):
        for word in ("success", "fail", "timeout"):
            if word in words:
                return word
        return "stop"
    if now < job.start_at or all(w == "wait" for w in words):
        return "wait"
    return "processing"


def sta_result(phases: dict[str, Step]) -> dict[str, int]:
    sta = dict.fromkeys(("wait", "processing", "success", "fail", "stop", "timeout"), 0)
    for step in phases.values():
        sta[WORDS[step.phase]] += 1
    return {"total": len(phases), **sta}


class TaskApi:
    """The ``/operations`` handlers; they return payloads or raise ``ApiError``."""

    def __init__(self, fleet: SimFleet, groups: dict[str, SimGroup]) -> None:
        self.fleet = fleet
        self.groups = groups

    # -- rendering -----------------------------------------------------------
    def task_json(self, job: SimJob, now: datetime) -> dict[str, Any]:
        phases = job.phases(now)
        status = task_status(job, now, phases)
        stop = None
        if status == "stop":
            stop = job.cancelled_at
        elif status in ("success", "fail", "timeout"):
            stop = job.finished_at(now) or now
        fw = job.firmware
        return {
            "operationId": job.job_id,
            "createTime": fmt_time(job.created_at),
            "startTime": fmt_time(job.start_at) if now >= job.start_at else None,
            "stopTime": fmt_time(stop),
            "operateType": job.meta.get("operateType", "firmware_upgrade"),
            "targets": job.meta.get("targets"),
            "policy": job.meta.get("policy"),
            "status": status.upper(),
            "staResult": sta_result(phases),
            "extendPara": {
                "fileId": fw.firmware_id,
                "fileName": fw.name,
                "fileVersion": fw.version,
            },
        }

    def sub_json(self, job: SimJob, target: SimTarget, step: Step, now: datetime) -> dict[str, Any]:
        word = WORDS[step.phase]
        sent = target.first_at(Phase.SENDING)
        if sent is not None and (sent > now or (step.phase.terminal and sent > step.at)):
            sent = None
        operate = job.meta.get("operateType", "firmware_upgrade")
        detail = None
        if step.phase is Phase.CANCELLED:
            detail = STOPPED_TEXT
        elif step.reason is not None and step.phase.terminal:
            detail = REASONS.get(step.reason, step.reason.value)
        extend = None
        progress = PROGRESS.get(step.phase)
        if progress is not None:
            sw_state, fw_step = progress
            if operate == "software_upgrade":
                extend = {"swUpgradeState": sw_state}
            elif fw_step is not None:
                extend = {"step": fw_step[0], "stepDesc": fw_step[1]}
        return {
            "subOperationId": sub_operation_id(job.job_id, target.device_id),
            "createTime": fmt_time(target.added_at),
            "startTime": fmt_time(sent),
            "stopTime": fmt_time(step.at) if step.phase.terminal else None,
            "operateType": operate,
            "deviceId": target.device_id,
            "status": word,
            "detailInfo": detail,
            "extendInfo": extend,
        }

    # -- reads -----------------------------------------------------------------
    def _job(self, operation_id: str) -> SimJob:
        job = self.fleet.jobs[KIND].get(operation_id)
        if job is None:
            raise ApiError("123009")
        return job

    def detail(self, operation_id: str) -> dict[str, Any]:
        return self.task_json(self._job(operation_id), self.fleet.now())

    def sub_operations(self, operation_id: str, query: dict[str, str]) -> dict[str, Any]:
        job = self._job(operation_id)
        page_no, size = paging(query, default_size=10, max_size=100)
        wanted = _status_filter(query.get("subOperationStatus"))
        now = self.fleet.now()
        rows = []
        for target in job.live_targets(now):
            step = target.step_at(now, job.cancelled_at)
            if wanted is None or WORDS[step.phase] == wanted:
                rows.append((target, step))
        return paged(rows, page_no or 0, size, lambda r: self.sub_json(job, r[0], r[1], now))

    def list_tasks(self, query: dict[str, str]) -> dict[str, Any]:
        page_no, size = paging(query, default_size=10, max_size=100)
        now = self.fleet.now()
        wanted = _status_filter(query.get("operationStatus"))
        jobs = sorted(
            (j for j in self.fleet.jobs[KIND].values() if self.fleet.listed(KIND, j.created_at)),
            key=lambda j: (j.created_at, j.job_id),
            reverse=True,
        )
        rendered = []
        for job in jobs:
            fw = job.firmware
            if any(
                query.get(param) and query[param] != value
                for param, value in (
                    ("operationType", job.meta.get("operateType")),
                    ("deviceType", fw.device_type),
                    ("model", fw.model),
                    ("manufacturerName", fw.make),
                )
            ):
                continue
            if query.get("deviceId") and query["deviceId"] not in job.targets:
                continue
            item = self.task_json(job, now)
            if wanted is not None and item["status"].lower() != wanted:
                continue
            rendered.append(item)
        return paged(rendered, page_no or 0, size, lambda item: item)

    # -- create ----------------------------------------------------------------
    def create(self, body: Any, kind: str) -> dict[str, str]:
        """Validate like the seed page (004) and create the job."""
        operate = OPERATE_TYPES[kind]
        if not isinstance(body, dict):
            raise ApiError("120015")
        file_id = body.get("fileId")
        if not isinstance(file_id, str) or not FILE_ID_RE.match(file_id):
            raise ApiError("120015")
        targets = body.get("targets")
        if not isinstance(targets, dict):
            raise ApiError("120015")
        groups = _str_list(targets.get("deviceGroups"))
        devices = _str_list(targets.get("devices"))
        if not groups and not devices:
            raise ApiError("123022")
        if groups and devices:
            raise ApiError("123023")
        if len(groups or devices) > MAX_TARGETS:
            raise ApiError("123024")
        scope = {}
        if groups:
            for name, code in (
                ("manufacturerName", "123019"),
                ("deviceType", "123020"),
                ("model", "123021"),
            ):
                value = targets.get(name)
                if not isinstance(value, str) or not value:
                    raise ApiError(code)
                scope[name] = value
        policy = self._policy(body.get("policy"))
        firmware = self._package(file_id, operate)
        if groups:
            device_ids = self._group_devices(groups, scope, firmware)
        else:
            device_ids = self._checked_devices(devices, firmware)
        now = self.fleet.now()
        custom = policy["executeType"] == "custom"
        job = self.fleet.create_job(
            KIND,
            job_id=self.fleet.hex_id(24),
            name=f"{operate} {firmware.version}",
            firmware=firmware,
            device_ids=device_ids,
            start_at=parse_time(policy["startTime"]) if custom else now,
            end_at=parse_time(policy["endTime"]) if custom else None,
            meta={
                "operateType": operate,
                "targets": target_json(groups, devices, scope),
                "policy": policy,
            },
        )
        return {"operationId": job.job_id}

    def _policy(self, policy: Any) -> dict[str, Any]:
        out: dict[str, Any] = {
            "executeType": "now",
            "startTime": None,
            "endTime": None,
            "retryType": False,
            "retryTimes": None,
        }
        if policy is None:
            return out
        if not isinstance(policy, dict):
            raise ApiError("120015")
        execute = policy.get("executeType")
        if execute not in EXECUTE_TYPES:
            raise ApiError("123025")
        out["executeType"] = execute
        start_raw, end_raw = policy.get("startTime"), policy.get("endTime")
        start, end = parse_time(start_raw), parse_time(end_raw)
        if execute == "custom" and (start is None or end is None):
            raise ApiError("123026")
        if (start_raw is not None and start is None) or (end_raw is not None and end is None):
            raise ApiError("123026")
        if start is not None and end is not None:
            if start > end:
                raise ApiError("123032")
            if start < self.fleet.now().replace(microsecond=0):
                raise ApiError("123033")
            if end - start <= timedelta(minutes=5):
                raise ApiError("123034")
        out["startTime"], out["endTime"] = start_raw, end_raw
        retry_type = policy.get("retryType", False)
        if not isinstance(retry_type, bool):
            raise ApiError("120015")
        retry_times = policy.get("retryTimes")
        if retry_type and retry_times is None:
            raise ApiError("123028")
        if retry_times is not None and (
            isinstance(retry_times, bool)
            or not isinstance(retry_times, int)
            or not 1 <= retry_times <= 5
        ):
            raise ApiError("123028")
        out["retryType"], out["retryTimes"] = retry_type, retry_times
        return out

    def _package(self, file_id: str, operate: str) -> SimFirmware:
        for firmware in self.fleet.firmware[KIND]:
            if firmware.firmware_id == file_id and firmware.file_type == PACKAGE_TYPES[operate]:
                return firmware
        raise ApiError("123002")

    def _group_devices(
        self, names: list[str], scope: dict[str, str], firmware: SimFirmware
    ) -> list[str]:
        if (scope["manufacturerName"], scope["deviceType"], scope["model"]) != (
            firmware.make,
            firmware.device_type,
            firmware.model,
        ):
            raise ApiError("123016")
        chosen: dict[str, None] = {}
        for name in names:
            group = self.groups.get(name)
            if group is None:
                raise ApiError("123002")
            for device_id in group.device_ids:
                device = self.fleet.device(KIND, device_id)
                if device is not None and (device.make, device.device_type, device.model) == (
                    firmware.make,
                    firmware.device_type,
                    firmware.model,
                ):
                    chosen[device_id] = None
        return list(chosen)

    def _checked_devices(self, device_ids: list[str], firmware: SimFirmware) -> list[str]:
        for device_id in device_ids:
            device = self.fleet.device(KIND, device_id)
            if device is None:
                raise ApiError("123002")
            if (device.make, device.device_type, device.model) != (
                firmware.make,
                firmware.device_type,
                firmware.model,
            ):
                raise ApiError("123016")
        return list(dict.fromkeys(device_ids))


def target_json(groups: list[str], devices: list[str], scope: dict[str, str]) -> dict[str, Any]:
    return {
        "deviceGroups": groups or None,
        "deviceType": scope.get("deviceType"),
        "model": scope.get("model"),
        "manufacturerName": scope.get("manufacturerName"),
        "devices": devices or None,
    }


def _str_list(value: Any) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise ApiError("120015")
    return value


def _status_filter(value: str | None) -> str | None:
    if not value:
        return None
    word = value.strip().lower()
    word = TASK_STATUS_FILTER.get(word, word)
    if word not in {"wait", "processing", "success", "fail", "stop", "timeout"}:
        raise ApiError("120015")
    return word
