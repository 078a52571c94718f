"""Per-device eligibility against what the platform reports right now.

A device is left out of a submission when the platform does not know it, its model does
not match the firmware, it already runs the target firmware, or it is already in an
active campaign (where a second one would be rejected or would race the first).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum

from fota_tui.models import CampaignSpec, Device, DeviceUpgrade, Firmware


class Ineligible(StrEnum):
    UNKNOWN_DEVICE = "unknown_device"
    MODEL_MISMATCH = "model_mismatch"
    ALREADY_ON_TARGET = "already_on_target"
    IN_ACTIVE_CAMPAIGN = "in_active_campaign"


@dataclass(frozen=True)
class Reason:
    code: Ineligible
    message: str


@dataclass(frozen=True)
class DeviceEligibility:
    """One requested device: eligible, or why not."""

    device_id: str
    device: Device | None = None
    reasons: tuple[Reason, ...] = ()

    @property
    def eligible(self) -> bool:
        return not self.reasons

    @property
    def summary(self) -> str:
        return "eligible" if self.eligible else "; ".join(r.message for r in self.reasons)


# (Firmware attribute, Device attribute, how the field is named to the user)
_MODEL_FIELDS = (
    ("make", "make", "make"),
    ("model", "model", "model"),
    ("device_type", "device_type", "device type"),
)


def target_version(spec: CampaignSpec, firmware: Firmware | None) -> str | None:
    """The firmware version devices will run afterwards, when it can be known."""
    version = spec.options.get("version")
    if isinstance(version, str) and version:
        return version
    return spec.firmware_to or (firmware.version if firmware else None)


def check_eligibility(
    spec: CampaignSpec,
    devices: Iterable[Device],
    upgrades: Iterable[DeviceUpgrade] = (),
    firmware: Firmware | None = None,
    held: Mapping[str, str] | None = None,
) -> list[DeviceEligibility]:
    """Eligibility of every id in ``spec.devices``, in order (groups are not expanded).

    ``held`` maps devices the journal holds back (a send whose outcome is unconfirmed)
    to the reason; they count as already in an active campaign.
    """
    by_id: dict[str, Device] = {}
    for device in devices:
        by_id.setdefault(device.device_id, device)
        if device.imei:
            by_id.setdefault(device.imei, device)
    active: dict[str, list[str]] = {}
    for record in upgrades:
        if record.state.active:
            active.setdefault(record.device_id, []).append(record.campaign_id or "?")
    target = target_version(spec, firmware)
    folded = {key.casefold(): key for key in by_id}  # ids written in another case
    results = [
        _one(device_id, by_id, folded, active, firmware, target) for device_id in spec.devices
    ]
    if held:
        results = [_hold(r, held) for r in results]
    return results


def _hold(result: DeviceEligibility, held: Mapping[str, str]) -> DeviceEligibility:
    keys = {
        result.device_id,
        *(filter(None, [result.device.imei, result.device.device_id] if result.device else [])),
    }
    why = next((held[k] for k in keys if k in held), None)
    if why is None:
        return result
    reason = Reason(Ineligible.IN_ACTIVE_CAMPAIGN, f"{result.device_id}: {why}")
    return DeviceEligibility(result.device_id, result.device, (*result.reasons, reason))


def _one(
    device_id: str,
    by_id: dict[str, Device],
    folded: dict[str, str],
    active: dict[str, list[str]],
    firmware: Firmware | None,
    target: str | None,
) -> DeviceEligibility:
    device = by_id.get(device_id)
    if device is None:
        text = f"{device_id}: not known to the platform"
        alike = folded.get(device_id.casefold())
        if alike is not None:  # ids are matched as the platform spells them
            text += f"; did you mean {alike!r}?"
        reason = Reason(Ineligible.UNKNOWN_DEVICE, text)
        return DeviceEligibility(device_id, None, (reason,))
    reasons: list[Reason] = []
    if firmware is not None:
        for fw_attr, dev_attr, label in _MODEL_FIELDS:
            wanted, actual = getattr(firmware, fw_attr), getattr(device, dev_attr)
            if wanted and actual and wanted.casefold() != actual.casefold():
                reasons.append(
                    Reason(
                        Ineligible.MODEL_MISMATCH,
                        f"{device_id}: {label} {actual!r} does not match the firmware's {wanted!r}",
                    )
                )
    if target and device.firmware and device.firmware == target:
        reasons.append(Reason(Ineligible.ALREADY_ON_TARGET, f"{device_id}: already runs {target}"))
    ids = {*active.get(device.device_id, []), *active.get(device.imei or "", [])}
    if ids:
        reasons.append(
            Reason(
                Ineligible.IN_ACTIVE_CAMPAIGN,
                f"{device_id}: already in active campaign {', '.join(sorted(ids))}",
            )
        )
    return DeviceEligibility(device_id, device, tuple(reasons))


def eligible_ids(results: Sequence[DeviceEligibility]) -> list[str]:
    return [r.device_id for r in results if r.eligible]
