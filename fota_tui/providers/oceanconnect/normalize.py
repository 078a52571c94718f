"""OceanConnect wire records → domain records (pure functions) and the status tables.

Status words are compared case-insensitively: subtasks say ``fail``, the task filter
says ``failed`` and real task answers say ``FAIL`` (docs/platforms/oceanconnect.md). Mapping follows
docs/platforms/oceanconnect.md; a ``success`` task whose ``staResult`` counts failures or timeouts is
``partial``. A processing subtask is refined by the download/update step found in its
``extendInfo`` (software ``swUpgradeState``, firmware ``step``/``stepDesc``; inferred).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from typing import Any

from fota_tui.models import (
    Campaign,
    CampaignState,
    Device,
    DeviceUpgrade,
    Firmware,
    ProviderKind,
    UpgradeState,
)
from fota_tui.providers.oceanconnect.wire import (
    CategoryInfo,
    OperationInfo,
    QueryDevice,
    StaResult,
    SubOperationInfo,
)

KIND = ProviderKind.OCEANCONNECT
MapStatus = Callable[[Any, UpgradeState], UpgradeState]

SUBTASK_STATES: dict[str, UpgradeState] = {
    "wait": UpgradeState.QUEUED,
    "waiting": UpgradeState.QUEUED,
    "processing": UpgradeState.IN_PROGRESS,
    "success": UpgradeState.SUCCEEDED,
    "fail": UpgradeState.FAILED,
    "failed": UpgradeState.FAILED,
    "stop": UpgradeState.CANCELLED,
    "stopped": UpgradeState.CANCELLED,
    "timeout": UpgradeState.EXPIRED,
}
TASK_STATES: dict[str, CampaignState] = {
    word: CampaignState(state.value) for word, state in SUBTASK_STATES.items()
}
# extendInfo step words (software push states, firmware step descriptions and numbers).
PROGRESS_STATES: dict[str, UpgradeState] = {
    "otacreated": UpgradeState.SENDING,
    "requestdownload": UpgradeState.DOWNLOADING,
    "downloading": UpgradeState.DOWNLOADING,
    "downloaded": UpgradeState.IN_PROGRESS,
    "updating": UpgradeState.IN_PROGRESS,
    "upgrading": UpgradeState.IN_PROGRESS,
    "1": UpgradeState.DOWNLOADING,
    "2": UpgradeState.IN_PROGRESS,
    "3": UpgradeState.IN_PROGRESS,
}
_PROGRESS_KEYS = ("swUpgradeState", "fwUpgradeState", "upgradeState", "stepDesc", "step")
STA_STATES: dict[str, UpgradeState] = {
    "wait": UpgradeState.QUEUED,
    "processing": UpgradeState.IN_PROGRESS,
    "success": UpgradeState.SUCCEEDED,
    "fail": UpgradeState.FAILED,
    "stop": UpgradeState.CANCELLED,
    "timeout": UpgradeState.EXPIRED,
}
FILE_TYPES = {"firmwarepackage": "firmware", "softwarepackage": "software"}
OPERATE_LABELS = {"firmware_upgrade": "Firmware upgrade", "software_upgrade": "Software upgrade"}
_IMEI = re.compile(r"^\d{15}$")
ONLINE_WORDS = {"online": True, "offline": False, "abnormal": False, "inactive": False}


def status_key(raw: Any) -> str:
    return str(raw).strip().lower() if raw is not None else ""


def with_override(raw: Any, default: UpgradeState, map_status: MapStatus) -> UpgradeState:
    """The profile's override for ``raw`` (exact, then lower case), else ``default``."""
    try:
        mapped = map_status(raw, default)
        if mapped == default and isinstance(raw, str):
            mapped = map_status(raw.strip().lower(), default)
    except ValueError:
        return default
    return mapped


def progress_state(extend: Any) -> UpgradeState | None:
    if isinstance(extend, str):
        try:
            extend = json.loads(extend)
        except ValueError:
            return None
    if not isinstance(extend, dict):
        return None
    for key in _PROGRESS_KEYS:
        state = PROGRESS_STATES.get(status_key(extend.get(key)))
        if state is not None:
            return state
    return None


def upgrade_state(raw: Any, extend: Any, map_status: MapStatus) -> UpgradeState:
    state = SUBTASK_STATES.get(status_key(raw), UpgradeState.UNKNOWN)
    if state is UpgradeState.IN_PROGRESS:
        state = progress_state(extend) or state
    return with_override(raw, state, map_status)


def campaign_state(raw: Any, sta: StaResult | None, map_status: MapStatus) -> CampaignState:
    state = TASK_STATES.get(status_key(raw), CampaignState.UNKNOWN)
    if state is CampaignState.SUCCEEDED and sta is not None and (sta.fail or sta.timeout):
        return CampaignState.PARTIAL
    return CampaignState(with_override(raw, UpgradeState(state.value), map_status).value)


def counts(sta: StaResult | None) -> dict[UpgradeState, int]:
    out = dict.fromkeys(UpgradeState, 0)
    if sta is not None:
        for word, state in STA_STATES.items():
            out[state] += max(getattr(sta, word), 0)
    return out


def _text(value: Any) -> str | None:
    if value is None or isinstance(value, dict | list):
        return None
    text = str(value).strip()
    return text or None


def package_of(info: OperationInfo) -> str | None:
    return _text((info.extendPara or {}).get("fileId"))


def target_version(info: OperationInfo, packages: Mapping[str, Firmware]) -> str | None:
    """The task's package version: from the package list, else ``extendPara``."""
    file_id = package_of(info)
    package = packages.get(file_id) if file_id else None
    return package.version if package else _text((info.extendPara or {}).get("fileVersion"))


def campaign(
    provider: str,
    info: OperationInfo,
    packages: Mapping[str, Firmware],
    map_status: MapStatus,
) -> Campaign:
    extend = info.extendPara or {}
    file_id = package_of(info)
    package = packages.get(file_id) if file_id else None
    version = target_version(info, packages)
    label = OPERATE_LABELS.get(status_key(info.operateType), "Upgrade")
    tally = counts(info.staResult)
    policy = info.policy
    return Campaign(
        provider=provider,
        kind=KIND,
        campaign_id=info.operationId,
        name=f"{label} {version or file_id or ''}".strip(),
        state=campaign_state(info.status, info.staResult, map_status),
        provider_status_raw=info.status,
        firmware_name=package.name if package else _text(extend.get("fileName")),
        firmware_to=version,
        counts=tally,
        total=(info.staResult.total if info.staResult else 0) or sum(tally.values()),
        created_at=info.createTime,
        start_at=(policy.startTime if policy else None) or info.startTime,
        end_at=(policy.endTime if policy else None) or info.stopTime,
        device_groups=tuple(info.targets.deviceGroups or ()) if info.targets else (),
    )


def upgrade(
    provider: str,
    sub: SubOperationInfo,
    campaign_id: str,
    firmware_to: str | None,
    map_status: MapStatus,
) -> DeviceUpgrade:
    return DeviceUpgrade(
        provider=provider,
        kind=KIND,
        device_id=sub.deviceId,
        campaign_id=campaign_id,
        state=upgrade_state(sub.status, sub.extendInfo, map_status),
        provider_status_raw=sub.status,
        provider_reason=_text(sub.detailInfo),
        firmware_to=firmware_to,
        created_at=sub.createTime,
        updated_at=sub.stopTime or sub.startTime or sub.createTime,
    )


def device(provider: str, record: QueryDevice) -> Device:
    info = record.deviceInfo
    node = info.nodeId if info else None
    status = info.status if info else None
    return Device(
        provider=provider,
        kind=KIND,
        device_id=record.deviceId,
        imei=node if node and _IMEI.match(node) else None,
        name=info.name if info else None,
        make=info.manufacturerName if info else None,
        model=info.model if info else None,
        device_type=info.deviceType if info else None,
        firmware=(info.fwVersion or info.swVersion) if info else None,
        online=ONLINE_WORDS.get(status_key(status)),
        provider_status_raw=status,
        updated_at=record.lastModifiedTime or record.creationTime,
    )


def firmware(provider: str, info: CategoryInfo) -> Firmware:
    raw_type = info.fileType
    return Firmware(
        provider=provider,
        kind=KIND,
        firmware_id=info.fileId,
        name=info.name or info.fileId,
        version=info.version,
        make=info.manufacturerName,
        model=info.model,
        device_type=info.deviceType,
        protocol=info.protocolType,
        file_type=FILE_TYPES.get(status_key(raw_type), raw_type),
        released_at=info.uploadTime,
    )
