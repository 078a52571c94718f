"""ThingSpace FOTA v1 ("upgrades") handlers, under ``/api/fota/v1`` (docs/platforms/thingspace.md, seed 002).

Quirks served on purpose: ``POST /upgrades`` takes the account in the body; reports page
with ``/index/{startIndex}`` and answer ``lastSeenUpgradeId`` (an int) on some pages and the
seed page's ``lastSeenUpgrdadeId`` typo (holding the last upgrade's UUID, as on the seed
page) on others, and a UUID is accepted back as ``startIndex``; device lists answer
``lastSeenDeviceId`` as a JSON number (the last IMEI) while ``deviceId`` is a string;
``upgradeTime`` uses Go's time format; ``resultReason`` is absent for pending devices.
"""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING, Any

from fota_tui.sim.dialects.thingspace.common import (
    ApiError,
    body_object,
    check_device,
    device_list,
    schedule,
    text,
)
from fota_tui.sim.dialects.thingspace.words import (
    V1_UPGRADE_STATUSES,
    day,
    go_time,
    iso_z,
    touch,
    v1_device_words,
    v1_upgrade_status,
)
from fota_tui.sim.fleet import Phase, Reason, SimFirmware, SimJob
from fota_tui.sim.http import SimRequest

if TYPE_CHECKING:
    from fota_tui.sim.dialects.thingspace.dialect import ThingSpaceDialect

HISTORY = timedelta(days=183)  # "ThingSpace keeps upgrade history for six months"
CLOSED = {"Finished", "UpgradeFailed", "RequestFailed", "Cancelled"}


class V1Api:
    def __init__(self, dialect: ThingSpaceDialect) -> None:
        self.d = dialect
        self.fleet = dialect.fleet

    # -- lookups ---------------------------------------------------------------
    def jobs(self) -> list[SimJob]:
        cutoff = self.fleet.now() - HISTORY
        jobs = [
            j
            for j in self.fleet.jobs[self.d.kind].values()
            if j.meta.get("api") == "v1" and j.created_at >= cutoff
            and self.fleet.listed(self.d.kind, j.created_at)
        ]  # fmt: skip
        return sorted(jobs, key=lambda j: (j.created_at, j.job_id))

    def job(self, request: SimRequest) -> SimJob:
        job = self.fleet.jobs[self.d.kind].get(request.params["upgrade_id"])
        if job is None or job.meta.get("api") != "v1":
            raise ApiError("UpgradeNotFound", f"Upgrade {request.params['upgrade_id']} not found")
        return job

    def upgrade(self, job: SimJob, *, detail: bool = False) -> dict[str, Any]:
        now = self.fleet.now()
        devices = []
        for target in job.live_targets(now):
            words = v1_device_words(job, target.device_id, target.step_at(now, job.cancelled_at))
            row = {"deviceId": target.device_id, "status": words.status}
            if words.reason is not None:
                row["resultReason"] = words.reason
            devices.append(row)
        obj: dict[str, Any] = {
            "id": job.job_id,
            "accountName": self.d.account,
            "firmwareName": job.firmware.name,
            "firmwareTo": job.firmware.version,
            "startDate": job.meta.get("start_day", day(job.start_at)),
            "status": v1_upgrade_status(job, now),
        }
        if detail:
            obj["endDate"] = job.meta.get("end_day", day(job.end_at))
        obj["deviceList"] = devices
        return obj

    # -- firmware --------------------------------------------------------------
    def firmware(self, request: SimRequest) -> Any:
        return [
            {
                "firmwareName": fw.name,
                "participantName": fw.make.split()[0],
                "launchDate": iso_z(fw.released_at),
                "releaseNote": fw.description,
                "model": fw.model,
                "make": fw.make,
                "fromVersion": fw.from_version,
                "toVersion": fw.version,
            }
            for fw in self.fleet.firmware[self.d.kind]
        ]

    def _firmware(self, name: str) -> SimFirmware:
        for fw in self.fleet.firmware[self.d.kind]:
            if fw.name == name:
                return fw
        raise ApiError("FirmwareNotFound", f"Firmware {name} not found")

    # -- upgrades --------------------------------------------------------------
    def create(self, request: SimRequest) -> Any:
        body = body_object(request.json())
        account = text(body, "accountName")
        if account != self.d.account:
            raise ApiError("InvalidAccount", f"Account {account} is not valid for this user")
        fw = self._firmware(text(body, "firmwareName"))
        if text(body, "firmwareTo") != fw.version:
            raise ApiError("FirmwareVersionMismatch", f"firmwareTo does not match {fw.name}")
        plan = schedule(body, self.fleet.now(), None)
        devices = device_list(body, "deviceList")
        rejects = {}
        for device_id in devices:
            why = check_device(self.fleet, fw, device_id)
            if why:
                rejects[device_id] = why
        job = self.fleet.create_job(
            self.d.kind,
            job_id=self.fleet.uuid(),
            name="",
            firmware=fw,
            device_ids=devices,
            start_at=plan.start_at,
            end_at=plan.end_at,
            rejected=dict.fromkeys(rejects, Reason.DEVICE_REJECTED),
            meta=self.d.job_meta("v1", reject_text=rejects, start_day=str(plan.start_day),
                                 end_day=str(plan.end_day)),
        )  # fmt: skip
        return self.upgrade(job)

    def detail(self, request: SimRequest) -> Any:
        return self.upgrade(self.job(request), detail=True)

    def change_devices(self, request: SimRequest) -> Any:
        job = self.job(request)
        status = v1_upgrade_status(job, self.fleet.now())
        if status in CLOSED:
            raise ApiError("InvalidUpgradeStatus", f"Upgrade is {status}; devices can not change")
        body = body_object(request.json())
        kind = body.get("type")  # lower-case t in v1 (v3 uses "Type")
        if kind is None:
            raise ApiError("MissingParameter", "type is required")
        if kind not in ("append", "remove"):
            raise ApiError("InvalidParameter", "type must be append or remove")
        devices = device_list(body, "deviceList", "devicelist")
        results = self.d.change_targets(job, kind, devices)
        return {"accountName": self.d.account, "id": job.job_id, "deviceList": results}

    def cancel(self, request: SimRequest) -> Any:
        job = self.job(request)
        now = self.fleet.now()
        status = v1_upgrade_status(job, now)
        if status in CLOSED or now >= job.start_at:
            raise ApiError(
                "InvalidUpgradeStatus",
                f"Upgrade is {status}; only upgrades not yet started can be cancelled",
            )
        self.fleet.cancel_job(job)
        touch(job)
        return {"success": True}

    # -- reports ---------------------------------------------------------------
    def _start(self, raw: str, matching: list[SimJob], jobs: list[SimJob]) -> int:
        """``startIndex``: a zero-based position, or an upgrade UUID (the typo field's value)."""
        if raw.isdigit():
            return int(raw)
        keys = {j.job_id: (j.created_at, j.job_id) for j in jobs}
        if raw not in keys:
            raise ApiError("InvalidParameter", "startIndex must be an integer")
        return sum(1 for j in matching if (j.created_at, j.job_id) <= keys[raw])

    def by_status(self, request: SimRequest) -> Any:
        wanted = request.params["status"]
        if wanted not in V1_UPGRADE_STATUSES:
            raise ApiError("InvalidParameter", f"upgradeStatus {wanted!r} is not valid")
        now, size = self.fleet.now(), self.d.page_sizes["v1_reports"]
        jobs = self.jobs()
        matching = [j for j in jobs if v1_upgrade_status(j, now) == wanted]
        start = self._start(request.params["start"], matching, jobs)
        page = matching[start : start + size]
        end = start + len(page)
        payload: dict[str, Any] = {"hasMoreFlag": end < len(matching)}
        if page and self.d.typo_page(start // size):
            last = page[-1].job_id
            payload["lastSeenUpgrdadeId"] = last if self.d.typo_value == "uuid" else end
        else:
            payload["lastSeenUpgradeId"] = end
        payload["reportList"] = [self.upgrade(j) for j in page]
        return payload

    def history(self, request: SimRequest) -> Any:
        device = self.d.account_device(request.params["device_id"])
        now, rows = self.fleet.now(), []
        jobs = self.fleet.jobs_of_device(self.d.kind, device.device_id)
        for job in {j.job_id: j for j in jobs}.values():
            target = job.targets.get(device.device_id)
            if job.meta.get("api") != "v1" or target is None or target.added_at > now:
                continue
            words = v1_device_words(job, device.device_id, target.step_at(now, job.cancelled_at))
            row: dict[str, Any] = {
                "deviceId": device.device_id,
                "id": job.job_id,
                "accountName": self.d.account,
                "firmwareFrom": job.firmware.from_version,
                "firmwareTo": job.firmware.version,
                "startDate": job.meta.get("start_day", day(job.start_at)),
            }
            sent = target.first_at(Phase.SENDING)
            if sent is not None and sent <= now:
                row["upgradeStartTime"] = iso_z(sent)
            row["status"] = words.status
            if words.reason is not None:
                row["reason"] = words.reason
            rows.append(row)
        return rows

    # -- account devices ---------------------------------------------------------
    def devices(self, request: SimRequest) -> Any:
        raw = request.params["start"]
        if not raw.isdigit():
            raise ApiError("InvalidParameter", "startIndex must be an integer")
        size, now = self.d.page_sizes["v1_devices"], self.fleet.now()
        ordered = self.d.devices_by_number()
        start = int(raw)
        lo = 0 if start == 0 else next_after(ordered, start)
        page = ordered[lo : lo + size]
        rows = []
        for _, device in page:
            version, upgraded_at = self.d.last_upgrade(device, now)
            rows.append(
                {
                    "deviceId": device.device_id,
                    "mdn": device.extra.get("mdn"),
                    "model": device.model,
                    "make": device.make,
                    "firmware": version,
                    "fotaEligible": bool(device.extra.get("fota_eligible", True)),
                    "licenseAssigned": bool(device.extra.get("license", True)),
                    "upgradeTime": go_time(upgraded_at),
                }
            )
        return {
            "accountName": self.d.account,
            "hasMoreData": lo + len(page) < len(ordered),
            "lastSeenDeviceId": page[-1][0] if page else start,  # a JSON number (quirk)
            "deviceList": rows,
        }


def next_after(ordered: list[tuple[int, Any]], number: int) -> int:
    """Index of the first entry whose number is greater than ``number``."""
    lo, hi = 0, len(ordered)
    while lo < hi:
        mid = (lo + hi) // 2
        if ordered[mid][0] <= number:
            lo = mid + 1
        else:
            hi = mid
    return lo
