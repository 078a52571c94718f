"""ThingSpace FOTA v3 (LwM2M "campaigns") handlers, under ``/api/fota/v3`` (docs/platforms/thingspace.md).

Handlers return the JSON payload or raise ``ApiError``; the dialect has already checked
both tokens and the account in the path.
"""

from __future__ import annotations

import bisect
from typing import TYPE_CHECKING, Any

from fota_tui.sim.dialects.thingspace.common import (
    ApiError,
    body_object,
    check_device,
    device_list,
    flag,
    reschedule,
    schedule,
    text,
)
from fota_tui.sim.dialects.thingspace.words import (
    QUEUED_WORDS,
    SCHEMA_CAMPAIGN_STATUSES,
    SCHEMA_NEIGHBOURS,
    V3_CAMPAIGN_STATUSES,
    day,
    go_time,
    iso_z,
    touch,
    v3_campaign_status,
    v3_device_words,
)
from fota_tui.sim.fleet import Reason, SimFirmware, SimJob
from fota_tui.sim.http import SimRequest

if TYPE_CHECKING:
    from fota_tui.sim.dialects.thingspace.dialect import ThingSpaceDialect

PROTOCOLS = {"LWM2M": "LWM2M", "OMA-DM": "OMA-DM", "OMD-DM": "OMA-DM"}  # docs spell both
CLOSED = {"CampaignEnded", "CampaignCancelled", "CampaignAborted", "CampaignFailed",
          "CampaignRequestFailed"}  # fmt: skip
NOT_STARTED = {"CampaignRequestPending", "CampaignPreScheduled", *QUEUED_WORDS}


class V3Api:
    def __init__(self, dialect: ThingSpaceDialect) -> None:
        self.d = dialect
        self.fleet = dialect.fleet

    # -- lookups ---------------------------------------------------------------
    def jobs(self) -> list[SimJob]:
        jobs = [
            j
            for j in self.fleet.jobs[self.d.kind].values()
            if j.meta.get("api") == "v3" and self.fleet.listed(self.d.kind, j.created_at)
        ]
        return sorted(jobs, key=lambda j: (j.created_at, j.job_id))

    def job(self, request: SimRequest) -> SimJob:
        job = self.fleet.jobs[self.d.kind].get(request.params["campaign_id"])
        if job is None or job.meta.get("api") != "v3":
            raise ApiError(
                "CampaignNotFound", f"Campaign {request.params['campaign_id']} not found"
            )
        return job

    def campaign(self, job: SimJob, *, info: bool = False) -> dict[str, Any]:
        fw, now = job.firmware, self.fleet.now()
        obj: dict[str, Any] = {"id": job.job_id, "accountName": self.d.account}
        if job.name:
            obj["campaignName"] = job.name
        obj |= {
            "firmwareName": fw.name,
            "firmwareFrom": fw.from_version,
            "firmwareTo": fw.version,
            "protocol": job.meta.get("protocol", fw.protocol),
            "make": fw.make,
            "model": fw.model,
            "status": v3_campaign_status(job, now),
            "startDate": job.meta.get("start_day", day(job.start_at)),
            "endDate": job.meta.get("end_day", day(job.end_at)),
        }
        windows = [{"startTime": s, "endTime": e} for s, e in job.windows]
        if info:  # campaign info: the seed page's field name and string flags
            obj["timeWindowList"] = windows
            obj["autoAssignLicenseFlag"] = str(job.meta.get("auto_assign", False)).lower()
            obj["autoAddDevicesFlag"] = str(job.meta.get("auto_add", False)).lower()
        else:
            obj["campaignTimeWindowList"] = windows
        return obj

    # -- firmware --------------------------------------------------------------
    def firmware(self, request: SimRequest) -> Any:
        raw = request.query.get("protocol")
        if not raw:
            raise ApiError("MissingParameter", "protocol is required (LWM2M, OMA-DM or all)")
        if raw.lower() != "all" and raw.upper() not in PROTOCOLS:
            raise ApiError("InvalidParameter", f"protocol {raw!r} is not LWM2M, OMA-DM or all")
        wanted = None if raw.lower() == "all" else PROTOCOLS[raw.upper()]
        return [
            {
                "firmwareName": fw.name,
                "firmwareFrom": fw.from_version,
                "firmwareTo": fw.version,
                "launchDate": iso_z(fw.released_at, ms=False),
                "releaseNote": fw.description,
                "model": fw.model,
                "make": fw.make,
                "protocol": fw.protocol,
            }
            for fw in self.fleet.firmware[self.d.kind]
            if wanted is None or fw.protocol == wanted
        ]

    def _firmware(self, name: str, protocol: str) -> SimFirmware:
        for fw in self.fleet.firmware[self.d.kind]:
            if fw.name == name and fw.protocol == protocol:
                return fw
        raise ApiError("FirmwareNotFound", f"Firmware {name} not found for protocol {protocol}")

    # -- campaigns -------------------------------------------------------------
    def create(self, request: SimRequest) -> Any:
        body = body_object(request.json())
        name = body.get("campaignName")
        if name is not None and not isinstance(name, str):
            raise ApiError("InvalidParameter", "campaignName must be a string")
        fw_name = text(body, "firmwareName")
        protocol = body.get("protocol", "LWM2M")
        if not isinstance(protocol, str) or protocol.upper() not in PROTOCOLS:
            raise ApiError("InvalidParameter", "protocol must be LWM2M or OMA-DM")
        fw = self._firmware(fw_name, PROTOCOLS[protocol.upper()])
        for key, expected in (("firmwareFrom", fw.from_version), ("firmwareTo", fw.version)):
            if text(body, key) != expected:
                raise ApiError(
                    "FirmwareVersionMismatch", f"{key} does not match firmware {fw.name}"
                )
        now = self.fleet.now()
        plan = schedule(body, now, "campaignTimeWindowList")
        devices = device_list(body, "deviceList")
        auto_assign = flag(body, "autoAssignLicenseFlag")
        auto_add = flag(body, "autoAddDevicesFlag")
        rejects = {}
        for device_id in devices:
            why = check_device(self.fleet, fw, device_id, auto_license=auto_assign)
            if why:
                rejects[device_id] = why
        job = self.fleet.create_job(
            self.d.kind,
            job_id=self.d.new_campaign_id(),
            name=name or "",
            firmware=fw,
            device_ids=devices,
            start_at=plan.start_at,
            end_at=plan.end_at,
            windows=plan.windows,
            rejected=dict.fromkeys(rejects, Reason.DEVICE_REJECTED),
            meta=self.d.job_meta("v3", reject_text=rejects, auto_assign=auto_assign,
                                 auto_add=auto_add, protocol=fw.protocol,
                                 start_day=str(plan.start_day), end_day=str(plan.end_day)),
        )  # fmt: skip
        return self.campaign(job)

    def info(self, request: SimRequest) -> Any:
        return self.campaign(self.job(request), info=True)

    def cancel(self, request: SimRequest) -> Any:
        job = self.job(request)
        status = v3_campaign_status(job, self.fleet.now())
        if status in CLOSED:
            raise ApiError(
                "InvalidCampaignStatus", f"Campaign is {status} and can not be cancelled"
            )
        self.fleet.cancel_job(job)
        touch(job)
        return {"success": True}

    def change_devices(self, request: SimRequest) -> Any:
        job = self.job(request)
        status = v3_campaign_status(job, self.fleet.now())
        if status in CLOSED:
            raise ApiError("InvalidCampaignStatus", f"Campaign is {status}; devices can not change")
        body = body_object(request.json())
        kind = body.get("Type")  # capital T in v3 (v1 uses "type")
        if kind is None:
            raise ApiError("MissingParameter", "Type is required")
        if kind not in ("append", "remove"):
            raise ApiError("InvalidParameter", "Type must be append or remove")
        devices = device_list(body, "deviceList", "devicelist")
        results = self.d.change_targets(job, kind, devices)
        return {"accountName": self.d.account, "campaignId": job.job_id, "deviceList": results}

    def change_dates(self, request: SimRequest) -> Any:
        job = self.job(request)
        status = v3_campaign_status(job, self.fleet.now())
        if status not in NOT_STARTED:
            raise ApiError(
                "InvalidCampaignStatus", f"Campaign is {status}; dates can only change before start"
            )
        body = body_object(request.json())
        plan = schedule(body, self.fleet.now(), "campaignTimeWindowList")
        reschedule(self.fleet, job, plan)
        job.meta["start_day"], job.meta["end_day"] = str(plan.start_day), str(plan.end_day)
        return self.campaign(job)

    # -- reports ---------------------------------------------------------------
    def by_status(self, request: SimRequest) -> Any:
        wanted = request.query.get("campaignStatus")
        if not wanted:
            raise ApiError("MissingParameter", "campaignStatus is required")
        schema = self.d.listing_filter == "schema"
        if wanted not in (SCHEMA_CAMPAIGN_STATUSES if schema else V3_CAMPAIGN_STATUSES):
            raise ApiError("InvalidParameter", f"campaignStatus {wanted!r} is not valid")
        listed = {wanted, *SCHEMA_NEIGHBOURS.get(wanted, ())} if schema else {wanted}
        jobs = self.jobs()
        last = request.query.get("lastSeenCampaignId")
        if last:
            ids = [j.job_id for j in jobs]
            if last not in ids:
                raise ApiError("InvalidParameter", f"lastSeenCampaignId {last} is not valid")
            jobs = jobs[ids.index(last) + 1 :]
        now, size = self.fleet.now(), self.d.page_sizes["v3_campaigns"]
        matching = [j for j in jobs if v3_campaign_status(j, now) in listed]
        page = matching[:size]
        payload: dict[str, Any] = {"hasMoreData": len(matching) > size}
        if page:
            payload["lastSeenCampaignId"] = page[-1].job_id
        payload["campaignList"] = [self.campaign(j) for j in page]
        return payload

    def devices(self, request: SimRequest) -> Any:
        job = self.job(request)
        now, size = self.fleet.now(), self.d.page_sizes["v3_devices"]
        ids = sorted(t.device_id for t in job.live_targets(now))
        last = request.query.get("lastSeenDeviceId")
        page = ids[bisect.bisect_right(ids, last) if last else 0 :][: size + 1]
        more, page = len(page) > size, page[:size]
        device_rows = []
        for device_id in page:
            step = job.targets[device_id].step_at(now, job.cancelled_at)
            words = v3_device_words(job, device_id, step, now)
            row = {"deviceId": device_id, "status": words.status, "resultReason": words.reason,
                   "updatedTime": iso_z(step.at)}  # fmt: skip
            if words.attempt_at is not None:
                row["recentAttemptTime"] = iso_z(words.attempt_at, ms=False)
            if words.next_at is not None:
                row["nextAttemptTime"] = iso_z(words.next_at, ms=False)
            device_rows.append(row)
        payload: dict[str, Any] = {"totalDevice": len(ids), "hasMoreData": more}
        if page:
            payload["lastSeenDeviceId"] = page[-1]
        payload |= {"maxPageSize": size, "deviceList": device_rows}
        return payload

    def history(self, request: SimRequest) -> Any:
        device = self.d.account_device(request.params["device_id"])
        now, rows = self.fleet.now(), []
        jobs = self.fleet.jobs_of_device(self.d.kind, device.device_id)
        for job in {j.job_id: j for j in jobs}.values():
            target = job.targets.get(device.device_id)
            if job.meta.get("api") != "v3" or target is None or target.added_at > now:
                continue
            step = target.step_at(now, job.cancelled_at)
            words = v3_device_words(job, device.device_id, step, now)
            rows.append(
                {
                    "deviceId": device.device_id,
                    job.meta.get("history_key", "campaignId"): job.job_id,
                    "accountName": self.d.account,
                    "firmwareName": job.firmware.name,
                    "firmwareFrom": job.firmware.from_version,
                    "firmwareTo": job.firmware.version,
                    "startDate": job.meta.get("start_day", day(job.start_at)),
                    "reportUpdatedTime": go_time(step.at),
                    "status": words.status,
                    "reason": words.reason or "",
                }
            )
        return rows
