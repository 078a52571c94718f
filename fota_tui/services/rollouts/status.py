"""A rollout in words: where it is and what it will decide next (console and CLI alike)."""

from __future__ import annotations

from datetime import datetime

from fota_tui.services.rollouts.plan import duration_text
from fota_tui.services.rollouts.record import Rollout, Wave
from fota_tui.text import columns


def wave_progress(wave: Wave) -> str:
    """``12/20 ok, 1 failed`` (or the wave's state before it was read)."""
    tally = wave.tally
    if tally is None or wave.state in ("waiting", "starting"):
        return wave.state
    text = f"{tally.succeeded}/{tally.members} ok"
    if tally.failed:
        text += f", {tally.failed} failed"
    return text


def next_decision(rollout: Rollout, now: datetime) -> str:
    """What the next step will decide, and on what condition."""
    plan = rollout.plan
    if rollout.state == "done":
        return "done"
    if rollout.state in ("halted", "aborted"):
        last = next(
            (d for d in reversed(rollout.decisions) if d.kind in ("halt", "operator")), None
        )
        return last.text if last else rollout.state
    wave = rollout.current
    if wave is None:
        return "done at the next step"
    total = len(rollout.waves)
    waiting = f" ({rollout.waiting})" if rollout.waiting else ""
    if rollout.state == "paused" and wave.state in ("waiting", "soaking"):
        return f"paused: wave {wave.index if wave.state == 'waiting' else wave.index + 1} waits for resume"
    if wave.state in ("waiting", "starting"):
        return f"wave {wave.index}/{total} starts at the next step{waiting}"
    tally = wave.tally
    shown = f"at {tally.success_pct:.0f} % success" if tally else "not read yet"
    if wave.state == "running":
        deadline = rollout.timeout_at(wave)
        by = f" by {deadline:%m-%d %H:%M}Z" if deadline else ""
        return (
            f"wave {wave.index}/{total} {shown}: needs {plan.success:g} %{by};"
            f" halts at > {plan.failure:g} % failed{waiting}"
        )
    if wave.state == "soaking" and wave.succeeded_at is not None:
        left = wave.succeeded_at + plan.soak - now
        what = f"wave {wave.index + 1} starts" if wave.index < total else "done"
        when = f"in {duration_text(left)}" if left.total_seconds() > 0 else "at the next step"
        if rollout.advance:
            when = "at the next step (soak skipped)"
        return f"{what} {when} if success stays ≥ {plan.success:g} %{waiting}"
    return wave.state + waiting


def wave_position(rollout: Rollout) -> str:
    wave = rollout.current
    total = len(rollout.waves)
    if wave is None:
        return f"{total}/{total}"
    return f"{wave.index}/{total}"


def bar(rollout: Rollout, width: int = 20) -> str:
    """Every wave as a share of the bar: ``█`` succeeded, ``▒`` in flight, ``░`` to come,
    ``✗`` where a wave failed."""
    total = max(rollout.devices, 1)
    out = ""
    for wave in rollout.waves:
        cells = max(1, round(width * len(wave.devices) / total))
        tally = wave.tally
        if wave.state == "halted" and tally is not None and tally.members:
            ok = round(cells * tally.succeeded / tally.members)
            bad = max(1, round(cells * tally.failed / tally.members))
            out += "█" * ok + "✗" * bad + "░" * max(0, cells - ok - bad)
        elif wave.state == "halted":
            out += "✗" * cells
        elif wave.state in ("done", "skipped"):
            out += "█" * cells
        elif tally is not None and tally.members:
            ok = round(cells * tally.succeeded / tally.members)
            out += "█" * ok + "▒" * (cells - ok)
        elif wave.state in ("starting", "running"):
            out += "▒" * cells
        else:
            out += "░" * cells
    return out


def describe(rollout: Rollout, now: datetime) -> list[str]:
    """``rollout show`` in lines (the console's rollout view shows the same)."""
    lines = [
        f"Rollout {rollout.rollout_id}: {rollout.name}",
        f"Provider: {rollout.provider}, profile {rollout.profile}; by {rollout.user}",
        f"State: {rollout.state}" + ("" if rollout.acknowledged else " (not acknowledged)"),
        f"Plan: {rollout.plan.summary()}",
        f"Next: {next_decision(rollout, now)}",
    ]
    rows = [["WAVE", "DEVICES", "STATE", "PROGRESS", "CAMPAIGNS"]]
    for wave in rollout.waves:
        rows.append(
            [
                str(wave.index),
                str(len(wave.devices)),
                wave.state,
                wave_progress(wave),
                ", ".join(wave.campaign_ids) or "-",
            ]
        )
    lines += [f"  {line}" for line in columns(rows)]
    lines.append("Decisions:")
    for decision in rollout.decisions:
        who = f" ({decision.user})" if decision.user else ""
        lines.append(f"  {decision.at:%Y-%m-%d %H:%M:%S}Z  {decision.text}{who}")
    return lines
