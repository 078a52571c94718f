"""OneNET wire records → domain records: pure functions and the status tables.

``send_status`` is refined by ``confirm_status`` (a name or a number) following
docs/platforms/onenet.md; unknown values become ``unknown`` with the raw value kept. A FOTA
upgrade is a WRITE of the package URI to ``/5/0/1`` paired with an EXECUTE of ``/5/0/2``;
its state is the write's until the write succeeded, then the execute's. Object 5 reads
(State, Update Result) refine a delivered update into downloading / in progress / done.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from fota_tui.models import Device, DeviceUpgrade, ProviderKind, UpgradeState
from fota_tui.providers.onenet.wire import Command, DeviceByImei, DeviceRecord, int_text

KIND = ProviderKind.ONENET
MapStatus = Callable[[Any, UpgradeState], UpgradeState]

SEND_STATUS_WORDS = {
    1: "wait",
    2: "cancelled",
    3: "sent to device",
    4: "expired",
    5: "success",
    6: "failed",
    7: "undefined",
    8: "undefined",
}
CONFIRM_NAMES = (
    "SUCCESS",
    "METHOD_NOT_ALLOWED",
    "FORBIDDEN",
    "NOT_FOUND",
    "INTERNAL_SERVER_ERROR",
    "TIME_OUT",
    "REQ_PARAM_ERROR",
    "RESP_ERROR",
    "UNAUTHORIZED",
    "BAD_REQUEST",
    "NOT_ACCEPTABLE",
    "UNSUPPORTED_CONTENT_FORMAT",
    "OFFLINE",
    "ADDR_OCCUPIED",
)
# Spellings from the documentation tables (typos included) → the canonical name.
_CONFIRM_ALIASES = {"NTERNAL_SERVER_ERROR": "INTERNAL_SERVER_ERROR"}

# LwM2M object 5, resource 5 (Update Result) texts.
UPDATE_RESULTS = {
    0: "initial value",
    1: "firmware updated successfully",
    2: "not enough flash memory for the package",
    3: "out of RAM during download",
    4: "connection lost during download",
    5: "integrity check failure",
    6: "unsupported package type",
    7: "invalid URI",
    8: "firmware update failed",
    9: "unsupported protocol",
}
STATE_DOWNLOADING, STATE_DOWNLOADED, STATE_UPDATING = 1, 2, 3
RES_STATE, RES_RESULT = 3, 5
_EPOCH = datetime.min.replace(tzinfo=UTC)


def as_int(raw: Any) -> int | None:
    if isinstance(raw, bool):
        return None
    if isinstance(raw, int):
        return raw
    if isinstance(raw, str):
        return int_text(raw)
    return None


def confirm_name(raw: Any) -> str | None:
    """``"SUCCESS"``, ``0`` and ``"0"`` all mean SUCCESS; unknown numbers stay visible."""
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return None
    number = as_int(raw)
    if number is not None:
        return CONFIRM_NAMES[number] if 0 <= number < len(CONFIRM_NAMES) else f"CODE_{number}"
    name = str(raw).strip().upper().replace(" ", "_")
    return _CONFIRM_ALIASES.get(name, name)


def command_state(
    cmd: Command, now: datetime, map_status: MapStatus | None = None
) -> tuple[UpgradeState, str | None]:
    """One command's state and reason (docs/platforms/onenet.md)."""
    status = as_int(cmd.send_status)
    name = confirm_name(cmd.confirm_status)
    reason: str | None = None
    if status == 1:
        later = cmd.valid_time is not None and now < cmd.valid_time
        state = UpgradeState.PENDING if later else UpgradeState.QUEUED
    elif status == 2:
        state = UpgradeState.CANCELLED
    elif status == 3:
        state = UpgradeState.SENDING
    elif status == 4:
        state, reason = UpgradeState.EXPIRED, "command expired before the device picked it up"
    elif status == 5:
        ok = name in (None, "SUCCESS")
        state = UpgradeState.SUCCEEDED if ok else UpgradeState.FAILED
        reason = None if ok else name
    elif status == 6:
        state, reason = UpgradeState.FAILED, name or "command send failed"
    else:
        state = UpgradeState.UNKNOWN
        reason = (
            f"send_status {cmd.send_status!r} ({SEND_STATUS_WORDS.get(status or 0, 'unmapped')})"
        )
    if map_status is not None:
        state = map_status(cmd.send_status, state)
        if name is not None:
            state = map_status(f"{status}:{name}", state)
    return state, reason


@dataclass(frozen=True)
class FotaPair:
    """One device's upgrade: the package-URI write and the update execute (if any)."""

    imei: str
    write: Command
    execute: Command | None

    @property
    def created_at(self) -> datetime | None:
        return self.write.create_time

    @property
    def uuids(self) -> tuple[str, ...]:
        return tuple(c.cmd_uuid for c in (self.write, self.execute) if c is not None)

    @property
    def updated_at(self) -> datetime | None:
        times = [
            t
            for c in (self.write, self.execute)
            if c is not None
            for t in (c.create_time, c.send_time, c.confirm_time)
            if t is not None
        ]
        return max(times) if times else None


def _created(cmd: Command) -> datetime:
    return cmd.create_time or _EPOCH


def pair_commands(
    imei: str,
    commands: Iterable[Command],
    *,
    gap: timedelta = timedelta(seconds=60),
    known_writes: frozenset[str] = frozenset(),
) -> list[FotaPair]:
    """Pair each EXECUTE with the latest earlier WRITE of the same expiry (within ``gap``).

    The list API does not say which resource a command targets, so a FOTA pair is
    recognised by shape: a write then an execute created together with the same
    ``expired_time``. A write with no execute counts only if it is a known FOTA write
    (its uuid was returned by our own create). Reads and lone executes are ignored.
    """
    cmds = sorted(commands, key=_created)
    writes = [c for c in cmds if c.kind == "WRITE"]
    used: set[int] = set()
    pairs: list[FotaPair] = []
    for execute in (c for c in cmds if c.kind == "EXECUTE"):
        best = None
        for i, write in enumerate(writes):
            if i in used or write.expired_time != execute.expired_time:
                continue
            if write.create_time is None or execute.create_time is None:
                continue
            delta = execute.create_time - write.create_time
            if timedelta(seconds=-1) <= delta <= gap:
                best = i
        if best is not None:
            used.add(best)
            pairs.append(FotaPair(imei, writes[best], execute))
    for i, write in enumerate(writes):
        if i not in used and write.cmd_uuid in known_writes:
            pairs.append(FotaPair(imei, write, None))
    pairs.sort(key=lambda p: _created(p.write))
    return pairs


def pair_state(
    pair: FotaPair, now: datetime, map_status: MapStatus | None = None
) -> tuple[UpgradeState, Any, str | None]:
    """(state, raw send_status of the deciding command, reason) of one upgrade."""
    w_state, w_reason = command_state(pair.write, now, map_status)
    if pair.execute is None:
        if w_state is UpgradeState.SUCCEEDED:
            return UpgradeState.DOWNLOADING, pair.write.send_status, "package URI written"
        return w_state, pair.write.send_status, w_reason
    e_state, e_reason = command_state(pair.execute, now, map_status)
    raw = pair.execute.send_status
    if w_state is UpgradeState.SUCCEEDED:
        if e_state in (UpgradeState.PENDING, UpgradeState.QUEUED):
            return UpgradeState.DOWNLOADING, raw, "package URI written; update waiting"
        if e_state is UpgradeState.SENDING:
            return UpgradeState.IN_PROGRESS, raw, "update command sent"
        if e_state is UpgradeState.SUCCEEDED:
            return e_state, raw, "update executed (delivery confirmed)"
        return e_state, raw, e_reason
    if not w_state.terminal and e_state.terminal and e_state is not UpgradeState.SUCCEEDED:
        return e_state, raw, e_reason
    return w_state, pair.write.send_status, w_reason


def refine_with_object5(
    state: UpgradeState, reason: str | None, values: dict[int, Any]
) -> tuple[UpgradeState, str | None]:
    """Object 5 State / Update Result → downloading, in progress, succeeded or failed."""
    fw_state, result = as_int(values.get(RES_STATE)), as_int(values.get(RES_RESULT))
    if fw_state == STATE_DOWNLOADING:
        return UpgradeState.DOWNLOADING, "downloading the package (object 5 State 1)"
    if fw_state in (STATE_DOWNLOADED, STATE_UPDATING):
        return UpgradeState.IN_PROGRESS, f"updating (object 5 State {fw_state})"
    if result == 1:
        return UpgradeState.SUCCEEDED, UPDATE_RESULTS[1]
    if result is not None and 2 <= result <= 9:
        return UpgradeState.FAILED, UPDATE_RESULTS[result]
    return state, reason


def upgrade(
    provider: str,
    pair: FotaPair,
    state: UpgradeState,
    raw: Any,
    reason: str | None,
    campaign_id: str | None,
    firmware_to: str | None = None,
) -> DeviceUpgrade:
    return DeviceUpgrade(
        provider=provider,
        kind=KIND,
        device_id=pair.imei,
        campaign_id=campaign_id,
        state=state,
        provider_status_raw=raw,
        provider_reason=reason,
        firmware_to=firmware_to,
        created_at=pair.created_at,
        updated_at=pair.updated_at,
    )


def _text(value: Any) -> str | None:
    return (str(value).strip() or None) if value is not None else None


def device_from_record(provider: str, record: DeviceRecord) -> Device | None:
    """A listed device; None for devices without an IMEI (not NB-IoT / LwM2M)."""
    imei = record.imei
    if imei is None:
        return None
    other = record.other or {}
    return Device(
        provider=provider,
        kind=KIND,
        device_id=imei,
        imei=imei,
        name=record.title,
        make=_text(other.get("manufacturer")),
        model=_text(other.get("model")),
        device_type=record.tags[0] if record.tags else None,
        firmware=_text(other.get("version") or other.get("firmware")),
        online=record.online,
        provider_status_raw=record.id,
    )


def device_from_imei(
    provider: str, imei: str, found: DeviceByImei, record: DeviceRecord | None
) -> Device:
    """A device looked up by IMEI, completed by its ``/devices`` record when there is one."""
    base = device_from_record(provider, record) if record is not None else None
    return Device(
        provider=provider,
        kind=KIND,
        device_id=imei,
        imei=imei,
        name=found.title or (base.name if base else None),
        make=base.make if base else None,
        model=base.model if base else None,
        device_type=base.device_type if base else None,
        firmware=base.firmware if base else None,
        online=found.online,
        provider_status_raw=found.id,
    )


def object5_values(instances: Iterable[Any]) -> dict[int, Any]:
    """``[{obj_inst_id, res:[{res_id, val}]}]`` → ``{res_id: val}`` of instance 0."""
    out: dict[int, Any] = {}
    for inst in instances:
        if inst.obj_inst_id in (0, None):
            out.update({r.res_id: r.val for r in inst.res if r.res_id is not None})
    return out
