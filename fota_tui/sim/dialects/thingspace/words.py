"""ThingSpace words: neutral fleet phases and reasons → the platform's status strings,
reason texts and its several time formats (docs/platforms/thingspace.md).

Everything here is a pure function of a job, a target step and the clock, so v1 and v3
handlers stay thin. Statuses the docs do not pin down are inferred [I] and kept in the
tables below, in one place.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass
from datetime import datetime, timedelta

from fota_tui.sim.fleet import Phase, Reason, SimJob, Step

# -- time formats ------------------------------------------------------------


def iso_z(when: datetime, ms: bool = True) -> str:
    """ISO-8601 UTC with ``Z``, with or without milliseconds (both occur)."""
    base = when.strftime("%Y-%m-%dT%H:%M:%S")
    return f"{base}.{when.microsecond // 1000:03d}Z" if ms else f"{base}Z"


def go_time(when: datetime | None) -> str:
    """Go's ``time.Time.String()``: ``2021-06-03 00:03:56.079 +0000 UTC``.

    Go trims trailing zeros of the fraction and prints the zero time as year 1.
    """
    if when is None:
        return "0001-01-01 00:00:00 +0000 UTC"
    frac = f"{when.microsecond // 1000:03d}".rstrip("0")
    return f"{when:%Y-%m-%d %H:%M:%S}{'.' + frac if frac else ''} +0000 UTC"


def rfc822ish(when: datetime) -> str:
    """The date style inside reason texts: ``09 Jul 21 00:00 UTC``."""
    return when.strftime("%d %b %y %H:%M UTC")


def day(when: datetime) -> str:
    return when.strftime("%Y-%m-%d")


def next_retry(now: datetime) -> datetime:
    """LwM2M devices that do not answer are retried around 04:00 UTC."""
    at = now.replace(hour=4, minute=0, second=0, microsecond=0)
    return at if at > now else at + timedelta(days=1)


def _pick(key: str, n: int) -> int:
    return zlib.crc32(key.encode()) % n


def try_count(job: SimJob, device_id: str) -> int:
    return 1 + _pick(f"{job.job_id}:{device_id}:try", 3)


# -- reasons -----------------------------------------------------------------

# LwM2M Firmware Update "Update Result" (object 5, resource 5) wording where it fits.
REASON_TEXT = {
    Reason.DOWNLOAD_FAILED: "Firmware download failed",
    Reason.OUT_OF_STORAGE: "UpdateResult 2: Not enough flash memory for the new firmware package",
    Reason.OUT_OF_MEMORY: "UpdateResult 3: Out of RAM during downloading process",
    Reason.CONNECTION_LOST: "UpdateResult 4: Connection lost during downloading process",
    Reason.INTEGRITY_CHECK_FAILED: "UpdateResult 5: Integrity check failure for new package",
    Reason.UNSUPPORTED_PACKAGE: "UpdateResult 6: Unsupported package type",
    Reason.INVALID_URI: "UpdateResult 7: Invalid URI",
    Reason.UPDATE_FAILED: "UpdateResult 8: Firmware update failed",
    Reason.DEVICE_TIMEOUT: "Device did not respond",
    Reason.LOW_BATTERY: "Device declined the update: battery level too low",
    Reason.DELIVERY_FAILED: "Request to FOTA server failed",
}

# Validation rejections ("Device Rejected"), v1 docs list most of these [V].
REJECT_NOT_FOUND = "Device not found in account"
REJECT_INVALID_IMEI = "Invalid IMEI"
REJECT_NOT_ELIGIBLE = "Device is not eligible for FOTA"
REJECT_CLIENT_TYPE = "Unknown client type"
REJECT_SCHEDULED = "Device is already scheduled for an upgrade"
REJECT_MODEL = "Device make/model does not match the firmware"
REJECT_LICENSE = "No FOTA license assigned to the device"
SEED_REJECTS = (REJECT_NOT_ELIGIBLE, REJECT_CLIENT_TYPE, REJECT_SCHEDULED, REJECT_LICENSE)


def reject_text(job: SimJob, device_id: str) -> str:
    texts: dict[str, str] = job.meta.get("reject_text", {})
    return texts.get(device_id) or SEED_REJECTS[_pick(device_id, len(SEED_REJECTS))]


def enum_word(job: SimJob, device_id: str) -> bool:
    """Some devices report the vendor's job enum words instead of the device words (both
    occur: the SDK's upgrade and campaign status enums are also used per device)."""
    return _pick(f"{job.job_id}:{device_id}:enum", 3) == 0


def failed_word(job: SimJob, device_id: str) -> str:
    """``UpgradeFailed``, with the documented ``UpgradedFailed`` typo on some devices."""
    return "UpgradedFailed" if _pick(f"{job.job_id}:{device_id}", 8) == 0 else "UpgradeFailed"


# -- job summaries (cached: listing thousands of targets must stay cheap) ------


@dataclass(frozen=True)
class Summary:
    validated_at: datetime  # every live target left "pending"
    done_at: datetime | None  # every live target reached its last (terminal) step
    first_send_at: datetime | None
    all_rejected: bool
    targets: int


def summarize(job: SimJob) -> Summary:
    cache = job.meta.get("_summary")
    key = (job.meta.get("rev", 0), len(job.targets))
    if cache is not None and cache[0] == key:
        summary: Summary = cache[1]
        return summary
    live = [t for t in job.targets.values() if t.removed_at is None]
    validated = max((t.steps[1].at for t in live if len(t.steps) > 1), default=job.created_at)
    done = max((t.steps[-1].at for t in live), default=None)
    sends = [s.at for t in live for s in t.steps if s.phase is Phase.SENDING]
    rejected = bool(live) and all(t.steps[-1].reason is Reason.DEVICE_REJECTED for t in live)
    summary = Summary(validated, done, min(sends, default=None), rejected, len(live))
    job.meta["_summary"] = (key, summary)
    return summary


def touch(job: SimJob) -> None:
    """Mark a job changed (targets, dates) so its summary is recomputed."""
    job.meta["rev"] = job.meta.get("rev", 0) + 1


# -- v3 campaign and device words --------------------------------------------

QUEUED_WORDS = ("CampaignRequestQueued", "CampaignQueued")  # SDK enum / lifecycle prose
NETWORK_CHECKS = timedelta(minutes=10)  # reachability checks between Queued and PreScheduled
V3_CAMPAIGN_STATUSES = (
    "CampaignRequestPending",
    "CampaignRequestQueued",
    "CampaignQueued",
    "CampaignPreScheduled",
    "CampaignScheduled",
    "CampaignEnded",
    "CampaignCancelled",
    "CampaignAborted",
    "CampaignFailed",
    "CampaignRequestFailed",
)

SCHEMA_CAMPAIGN_STATUSES = tuple(s for s in V3_CAMPAIGN_STATUSES
                                 if s not in ("CampaignQueued", "CampaignPreScheduled"))  # fmt: skip
# A platform that validates its enum lists the example-only words under these filters.
SCHEMA_NEIGHBOURS = {
    "CampaignRequestQueued": ("CampaignQueued",),
    "CampaignScheduled": ("CampaignPreScheduled",),
}


def v3_campaign_status(job: SimJob, now: datetime) -> str:
    if job.cancelled_at is not None and job.cancelled_at <= now:
        return "CampaignCancelled" if job.cancelled_at < job.start_at else "CampaignAborted"
    s = summarize(job)
    if now < s.validated_at:
        return "CampaignRequestPending"
    if s.all_rejected:
        return "CampaignRequestFailed"
    if now >= job.start_at:
        ended = now >= job.end_at or (s.done_at is not None and now >= s.done_at)
        return "CampaignEnded" if ended else "CampaignScheduled"
    if now < s.validated_at + NETWORK_CHECKS:
        return str(job.meta.get("queued_word", QUEUED_WORDS[0]))
    return "CampaignPreScheduled"


def v3_cancel_word(job: SimJob) -> str:
    assert job.cancelled_at is not None
    return "CampaignCancelled" if job.cancelled_at < job.start_at else "CampaignAborted"


@dataclass(frozen=True)
class DeviceWords:
    status: str
    reason: str | None
    attempt_at: datetime | None = None  # most recent attempt
    next_at: datetime | None = None


def v3_device_words(job: SimJob, device_id: str, step: Step, now: datetime) -> DeviceWords:
    phase, tries = step.phase, try_count(job, device_id)
    target = job.targets[device_id]
    sent = target.first_at(Phase.SENDING)
    enum = enum_word(job, device_id)
    if phase is Phase.PENDING:
        word = "CampaignRequestPending" if enum else "NoDeviceDataFromNetwork"
        return DeviceWords(word, "Waiting for device data from the network")
    if phase is Phase.QUEUED and now < job.start_at:
        text = f"Device data received, campaign starts {rfc822ish(job.start_at)}"
        word = "CampaignScheduled" if enum else "ReceivedDeviceDataFromNetwork"
        return DeviceWords(word, text)
    if phase is Phase.EXPIRED and enum:
        return DeviceWords("CampaignEnded", f"Device did not respond by {day(job.end_at)}")
    if phase is Phase.QUEUED or phase is Phase.EXPIRED:
        retry = next_retry(now)
        text = f"Device not reachable, next attempt {rfc822ish(retry)}, try count {tries}"
        return DeviceWords("UpgradePending", text, None, retry if phase is Phase.QUEUED else None)
    if phase in (Phase.SENDING, Phase.DOWNLOADING, Phase.INSTALLING):
        return DeviceWords("UpgradeScheduled", f"Upgrade scheduled {rfc822ish(step.at)}", sent)
    if phase is Phase.SUCCEEDED:
        text = f"Upgrade success {rfc822ish(step.at)}, firmware {job.firmware.version}"
        return DeviceWords("UpgradeSuccess", text, sent)
    if phase is Phase.CANCELLED:
        return DeviceWords(v3_cancel_word(job), f"Campaign stopped {rfc822ish(step.at)}", sent)
    if step.reason is Reason.DEVICE_REJECTED:
        word = "CampaignRequestFailed" if enum else "Device Rejected"
        return DeviceWords(word, reject_text(job, device_id))
    text = REASON_TEXT.get(step.reason or Reason.UPDATE_FAILED, "Upgrade failed")
    return DeviceWords(
        failed_word(job, device_id), f"{text}, {rfc822ish(step.at)}, try count {tries}", sent
    )


# -- v1 upgrade and device words ---------------------------------------------

V1_UPGRADE_STATUSES = ("RequestPending", "Queued", "RequestFailed", "InProgress", "Finished",
                       "UpgradeFailed")  # fmt: skip
V1_CANCELLED = "Cancelled"  # [I] not in the enum: cancelled upgrades leave the reports


def v1_upgrade_status(job: SimJob, now: datetime) -> str:
    if job.cancelled_at is not None and job.cancelled_at <= now:
        return V1_CANCELLED
    s = summarize(job)
    if now < s.validated_at:
        return "RequestPending"
    if s.all_rejected:
        return "RequestFailed"
    if now >= job.end_at or (s.done_at is not None and now >= s.done_at):
        ok = any(step.phase is Phase.SUCCEEDED for step in job.phases(now).values())
        return "Finished" if ok else "UpgradeFailed"
    if now >= job.start_at and s.first_send_at is not None and now >= s.first_send_at:
        return "InProgress"
    return "Queued"


def v1_device_words(job: SimJob, device_id: str, step: Step) -> DeviceWords:
    """v1 devices: documented words only; ``resultReason`` is absent while pending."""
    phase, enum = step.phase, enum_word(job, device_id)
    if phase is Phase.PENDING:
        return DeviceWords("Request Pending", None)
    if phase is Phase.SUCCEEDED:
        return DeviceWords("Finished" if enum else "UpgradeSuccess",
                           f"Upgrade success {rfc822ish(step.at)}")  # fmt: skip
    if phase is Phase.FAILED and step.reason is Reason.DEVICE_REJECTED:
        return DeviceWords(
            "RequestFailed" if enum else "Device Rejected", reject_text(job, device_id)
        )
    if phase is Phase.FAILED:
        text = REASON_TEXT.get(step.reason or Reason.UPDATE_FAILED, "Upgrade failed")
        return DeviceWords(failed_word(job, device_id), f"{text}, {rfc822ish(step.at)}")
    if phase is Phase.CANCELLED:
        return DeviceWords("Device Accepted", f"Upgrade cancelled {rfc822ish(step.at)}")
    if phase is Phase.EXPIRED:
        return DeviceWords("Device Accepted", f"Device did not respond by {day(job.end_at)}")
    if enum and phase is Phase.QUEUED:
        return DeviceWords("Queued", "success")
    if enum:  # sending, downloading, installing
        return DeviceWords("InProgress", "success")
    return DeviceWords("Device Accepted", "success")  # queued and in flight alike
