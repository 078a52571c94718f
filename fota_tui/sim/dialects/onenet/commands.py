"""Cached commands as OneNET shows them, derived from the fleet's job timelines.

A FOTA job gives every target device two cached commands: a WRITE of the package URI to
``/5/0/1`` and an EXECUTE of ``/5/0/2`` (Update), created together. Their
``send_status``/``confirm_status`` follow the device's phase:

| phase                               | write            | execute                   |
|-------------------------------------|------------------|---------------------------|
| pending, queued                     | 1 wait           | 1 wait                    |
| sending                             | 3 sent           | 3 sent                    |
| downloading, installing, succeeded  | 5 SUCCESS        | 5 SUCCESS                 |
| failed (reason → ``OUTCOMES``)      | 5 SUCCESS or the failure | 5 + confirm name, 6, or 8/7 |
| expired                             | 4                | 4                         |
| cancelled                           | 5 if confirmed before, else 2 | 2            |

The upgrade's progress beyond delivery is visible through object 5 (State, Update Result),
see ``object5``. Other commands (reads, non-FOTA writes/executes) are ``PlainCommand``s with
a fixed timeline planned at creation.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from fota_tui.sim.dialects.onenet.common import (
    CANCELLED,
    CONFIRM_NAMES,
    DEFAULT_OUTCOME,
    EXPIRED,
    FAILED,
    OUTCOMES,
    SENT,
    STATE_DOWNLOADING,
    STATE_IDLE,
    STATE_UPDATING,
    SUCCESS,
    UNDEFINED,
    UNDEFINED_7,
    WAIT,
    bj,
    bj_request,
    confirm_code,
    java_date,
    log_stamp,
)
from fota_tui.sim.fleet import Phase, SimJob, SimTarget

OK_RESULT = {"errno": 0, "error": "succ"}


@dataclass
class Command:
    """One cached command at one instant, in OneNET's terms."""

    uuid: str
    imei: str
    type: str  # READ / WRITE / EXECUTE
    args: dict[str, Any]
    content: Any
    create_time: datetime
    valid_time: datetime
    expired_time: datetime
    retry: int = 3
    trigger_msg: int = 7
    send_status: int = WAIT
    send_time: datetime | None = None
    confirm_time: datetime | None = None
    confirm: str | None = None  # confirm_status name
    remain: int = 3
    cmd_result: Any = None
    cancelled_at: datetime | None = None
    job: SimJob | None = None  # set for FOTA pair commands
    role: str = ""  # "write" / "execute" for FOTA pair commands
    order: int = 0  # tie-break when create times are equal

    def __post_init__(self) -> None:
        self.remain = self.retry

    def sent(self, at: datetime | None) -> None:
        self.send_status, self.send_time = SENT, at

    def finish(
        self, send_time: datetime | None, at: datetime, status: int, confirm: str | None
    ) -> None:
        """The final answer: success, a device failure or an undefined error."""
        if status == UNDEFINED and int(self.uuid[-1], 16) < 4:
            status = UNDEFINED_7  # one mirror numbers "undefined" as 7
        self.send_status, self.send_time = status, send_time or at
        if status == SUCCESS:
            self.confirm_time, self.confirm = at, confirm or "SUCCESS"
        if self.confirm == "SUCCESS":
            self.cmd_result = OK_RESULT
        else:
            self.remain = 0

    @property
    def feedback_time(self) -> datetime | None:
        return self.confirm_time + timedelta(seconds=1) if self.confirm_time else None

    # -- wire shapes ----------------------------------------------------------
    def confirm_value(self) -> str | None:
        """The name (as the examples send it) or, for some commands, the number as a string."""
        if self.confirm is None:
            return None
        return str(confirm_code(self.confirm)) if int(self.uuid[:2], 16) % 5 == 0 else self.confirm

    def item(self) -> dict[str, Any]:
        """A history list item: absent times stay absent, ``remain`` is a string."""
        uuid = self.uuid + " " if self.uuid[-1] in "05" else self.uuid  # seed: trailing space
        out: dict[str, Any] = {
            "cmd_uuid": uuid,
            "type": self.type,
            "create_time": bj(self.create_time),
            "valid_time": bj(self.valid_time),
            "expired_time": bj(self.expired_time),
        }
        if self.send_time is not None:
            out["send_time"] = bj(self.send_time)
        out["trigger_msg"] = self.trigger_msg
        out["send_status"] = self.send_status
        if self.confirm_time is not None:
            out["confirm_time"] = bj(self.confirm_time)
            out["confirm_status"] = self.confirm_value()
            out["feedback_time"] = bj(self.feedback_time or self.confirm_time)
        out["imei"] = self.imei
        out["remain"] = str(self.remain)
        return out

    def detail(self) -> dict[str, Any]:
        out = self.item()
        out.pop("cmd_uuid")
        out["args"] = self.args
        out["content"] = self.content
        if self.confirm == "SUCCESS":
            out["cmd_result"] = self.cmd_result
        out["feedback_msg"] = (
            [{"feedback_time": bj(self.feedback_time), "feedback_status": self.confirm_value()}]
            if self.feedback_time
            else []
        )
        return out

    def piecewise(self) -> list[dict[str, str]]:
        """The full-link log: ``[{log, time}]`` with Java ``Date`` strings."""
        lines = [
            (
                self.create_time,
                f"received command, uuid: {self.uuid}, type: {self.type}, imei: {self.imei}",
            )
        ]
        if self.send_time is not None:
            lines.append((self.send_time, f"send command to device, imei: {self.imei}"))
        if self.confirm_time is not None and self.confirm is not None:
            lines.append(
                (
                    self.confirm_time,
                    f"received confirm message at {log_stamp(self.confirm_time)}, "
                    f"command send status: [{self.send_status}], "
                    f"confirm status: [{confirm_code(self.confirm)}]",
                )
            )
            lines.append((self.feedback_time or self.confirm_time, "feedback message"))
        elif self.send_status in (FAILED, UNDEFINED, UNDEFINED_7) and self.send_time:
            lines.append(
                (self.send_time, f"command send failed, send status: [{self.send_status}]")
            )
        if self.send_status == CANCELLED and self.cancelled_at is not None:
            lines.append((self.cancelled_at, "command cancelled"))
        if self.send_status == EXPIRED:
            lines.append((self.expired_time, "command expired"))
        return [{"log": log, "time": java_date(at)} for at, log in lines]


def derived_uuid(*parts: object) -> str:
    """A stable uuid for seeded commands (no storage needed for 100k devices)."""
    h = hashlib.md5(":".join(map(str, parts)).encode()).hexdigest()
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:32]}"


def fota_args(
    imei: str, role: str, valid: datetime, expired: datetime, retry: int = 3, trigger: int = 7
) -> dict[str, Any]:
    args: dict[str, Any] = {"imei": imei, "obj_id": 5, "obj_inst_id": 0}
    if role == "write":
        args["mode"] = 1
    else:
        args["res_id"] = 2
    args.update(
        valid_time=bj_request(valid),
        expired_time=bj_request(expired),
        retry=retry,
        timeout=25,
        trigger_msg=trigger,
    )
    return args


def pair_specs(job: SimJob, target: SimTarget, imei: str, seed: int) -> list[dict[str, Any]]:
    """The static fields of a job's commands for one device (write first)."""
    meta = job.meta
    if meta.get("api"):
        return [dict(meta[role]) for role in ("write", "execute") if meta.get(role)]
    trigger = 7 if int(imei[-1]) % 3 else 2
    specs = []
    for order, role in enumerate(("write", "execute")):
        specs.append(
            {
                "role": role,
                "uuid": derived_uuid(seed, job.job_id, target.device_id, role),
                "created": target.added_at,
                "valid": job.start_at,
                "expired": job.end_at,
                "retry": 3,
                "trigger_msg": trigger,
                "args": fota_args(imei, role, job.start_at, job.end_at, 3, trigger),
                "content": (
                    {"data": [{"res_id": 1, "val": job.firmware.url}]} if role == "write" else None
                ),
                "order": order,
            }
        )
    return specs


def fota_commands(
    job: SimJob, target: SimTarget, imei: str, now: datetime, cancelled: set[str], seed: int
) -> list[Command]:
    """The write and execute of one device in one FOTA job, as of ``now``."""
    cmds = {
        spec["role"]: Command(
            uuid=spec["uuid"],
            imei=imei,
            type="WRITE" if spec["role"] == "write" else "EXECUTE",
            args=spec["args"],
            content=spec["content"],
            create_time=spec["created"],
            valid_time=spec["valid"],
            expired_time=spec["expired"],
            retry=spec["retry"],
            trigger_msg=spec["trigger_msg"],
            job=job,
            role=spec["role"],
            order=spec["order"],
        )
        for spec in pair_specs(job, target, imei, seed)
    }
    write, execute = cmds.get("write"), cmds.get("execute")
    step = target.step_at(now, job.cancelled_at)
    send_at, dl_at = target.first_at(Phase.SENDING), target.first_at(Phase.DOWNLOADING)
    job_cancelled = job.cancelled_at is not None and job.cancelled_at <= now

    def confirm_write() -> None:
        if write is not None and dl_at is not None:
            write.finish(send_at, dl_at, SUCCESS, "SUCCESS")

    def cancel_or_wait(cmd: Command | None) -> None:
        if cmd is None:
            return
        if job_cancelled or cmd.uuid in cancelled:
            cmd.send_status, cmd.cancelled_at = CANCELLED, step.at
        elif now >= cmd.expired_time:
            cmd.send_status = EXPIRED

    phase = step.phase
    if phase is Phase.SENDING:
        for cmd in cmds.values():
            cmd.sent(send_at)
    elif phase in (Phase.DOWNLOADING, Phase.INSTALLING, Phase.SUCCEEDED):
        confirm_write()
        if execute is not None and dl_at is not None:
            execute.finish(dl_at, dl_at, SUCCESS, "SUCCESS")
    elif phase is Phase.FAILED:
        outcome = OUTCOMES.get(step.reason, DEFAULT_OUTCOME) if step.reason else DEFAULT_OUTCOME
        if outcome.write is None and dl_at is not None:
            confirm_write()
        elif write is not None:  # failed before the package URI was taken
            write.finish(send_at or step.at, step.at, *(outcome.write or outcome.execute))
        if execute is not None:
            execute.finish(dl_at or send_at or step.at, step.at, *outcome.execute)
    elif phase is Phase.EXPIRED:
        for cmd in cmds.values():
            cmd.send_status = EXPIRED
    elif phase is Phase.CANCELLED:
        if dl_at is not None and dl_at <= step.at:
            confirm_write()
        else:
            cancel_or_wait(write)
        cancel_or_wait(execute)
    else:  # pending / queued: waiting, unless a lone partner outlived its window
        for cmd in cmds.values():
            if now >= cmd.expired_time:
                cmd.send_status = EXPIRED
    return list(cmds.values())


def object5(job: SimJob | None, target: SimTarget | None, now: datetime) -> tuple[int, int]:
    """(State, Update Result) of object 5 for the device's newest delivered FOTA job."""
    if job is None or target is None:
        return STATE_IDLE, 0
    step = target.step_at(now, job.cancelled_at)
    if step.phase is Phase.DOWNLOADING:
        return STATE_DOWNLOADING, 0
    if step.phase is Phase.INSTALLING:
        return STATE_UPDATING, 0
    if step.phase is Phase.SUCCEEDED:
        return STATE_IDLE, 1
    if step.phase is Phase.FAILED and step.reason is not None:
        outcome = OUTCOMES.get(step.reason, DEFAULT_OUTCOME)
        return STATE_IDLE, outcome.update_result
    return STATE_IDLE, 0


@dataclass
class PlainCommand:
    """A non-FOTA cached command (or an execute with no package written before it)."""

    uuid: str
    imei: str
    type: str
    args: dict[str, Any]
    content: Any
    created: datetime
    valid: datetime
    expired: datetime
    retry: int
    trigger_msg: int
    sent_at: datetime | None  # None: the device never wakes up in time
    outcome: tuple[int, str | None]
    result: Callable[[datetime], Any] | None = None  # READ: values at confirm time
    cancelled_at: datetime | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def view(self, now: datetime) -> Command:
        cmd = Command(
            uuid=self.uuid,
            imei=self.imei,
            type=self.type,
            args=self.args,
            content=self.content,
            create_time=self.created,
            valid_time=self.valid,
            expired_time=self.expired,
            retry=self.retry,
            trigger_msg=self.trigger_msg,
            order=2,
        )
        if self.cancelled_at is not None and self.cancelled_at <= now:
            cmd.send_status, cmd.cancelled_at = CANCELLED, self.cancelled_at
        elif self.sent_at is not None and self.sent_at <= now:
            confirm_at = self.sent_at + timedelta(seconds=2)
            if confirm_at <= now:
                cmd.finish(self.sent_at, confirm_at, *self.outcome)
                if cmd.confirm == "SUCCESS" and self.result is not None:
                    cmd.cmd_result = self.result(confirm_at)
            else:
                cmd.sent(self.sent_at)
        elif now >= self.expired:
            cmd.send_status = EXPIRED
        return cmd


__all__ = [
    "CONFIRM_NAMES",
    "Command",
    "PlainCommand",
    "derived_uuid",
    "fota_args",
    "fota_commands",
    "object5",
]
