"""``fota-tui rollout plan | apply | list | show | pause | resume | abort | advance | ack |
run | step``: staged rollouts from files (a campaign file with a ``[rollout]`` table).

``plan`` is the dry run (exit 0 when valid, 2 with one ``FILE: field: message`` line per
problem). ``apply`` records the rollout and starts its first wave. ``run`` drives
rollouts until they are through (for tmux, a service or CI), ``step`` makes one
evaluation (for cron); both are safe to start twice. ``show`` exits 1 when the rollout
halted, so scripts can alert on it.
"""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING, Any

from fota_tui.commands import target_options
from fota_tui.commands.campaign import (
    Context,
    ask,
    in_profile,
    open_context,
    print_requests,
    require_writable,
    run_async,
)
from fota_tui.text import clean, columns, devices_text, json_text

if TYPE_CHECKING:
    from fota_tui.services.rollouts.drivers import Rollouts
    from fota_tui.services.rollouts.engine import RolloutPlan, StepResult
    from fota_tui.services.rollouts.record import Rollout

MEMBERS_SHOWN = 5  # devices listed per wave in a plan


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "rollout",
        help="staged rollouts: waves gated on success (plan, apply, list, show, run, step…)",
        description="A rollout is a campaign file with a [rollout] table: the devices are"
        " split into waves, and each wave starts only when the one before succeeded and"
        " soaked. See the README for one example per platform.",
    )
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)

    p = actions.add_parser(
        "plan",
        help="dry run: the waves, their devices and the first wave's exact requests",
        description="Check FILE and print its waves, thresholds and the first wave's"
        " requests (secrets masked). Sends nothing. Exit 0 when valid, 2 when not.",
    )
    p.add_argument("file", metavar="FILE", help="rollout TOML file")
    target_options(p)
    p.set_defaults(func=run_plan)

    p = actions.add_parser(
        "apply",
        help="plan, confirm, record the rollout and start its first wave",
        description="Plan FILE; if it is valid, ask for confirmation (in a production"
        " profile: type the profile name), record the rollout and start wave 1.",
    )
    p.add_argument("file", metavar="FILE", help="rollout TOML file")
    target_options(p)
    p.add_argument("--yes", "-y", action="store_true", help="do not ask for confirmation")
    p.set_defaults(func=run_apply)

    p = actions.add_parser(
        "list",
        help="the profile's rollouts",
        description="Every rollout of the profile: state, wave, devices and what it decides next.",
    )
    target_options(p)
    p.set_defaults(func=run_list)

    p = actions.add_parser(
        "show",
        help="one rollout: waves, progress, decisions (exit 1 when halted)",
        description="One rollout: its plan, waves, progress and every decision with its"
        " reason. Exit 0 while it runs or is done, 1 when it halted.",
    )
    p.add_argument("rollout_id", metavar="ID", help="the rollout's id (ro-…; see 'list')")
    target_options(p)
    p.add_argument("--format", choices=("text", "json"), default="text")
    p.set_defaults(func=run_show)

    for name, text in (
        ("pause", "start no further wave until resumed (running waves go on)"),
        ("resume", "resume a paused rollout"),
        ("abort", "stop for good: cancel what the platform can cancel"),
        ("advance", "skip the current soak (the next wave still needs a passing read)"),
        ("ack", "acknowledge a halt (the console shows it until then)"),
    ):
        p = actions.add_parser(name, help=text, description=text[0].upper() + text[1:] + ".")
        p.add_argument("rollout_id", metavar="ID", help="the rollout's id (ro-…; see 'list')")
        target_options(p)
        p.add_argument(
            "--yes", "-y", action="store_true", help="do not ask (abort and advance ask)"
        )
        p.set_defaults(func=run_operate, operation=name)

    p = actions.add_parser(
        "run",
        help="drive rollouts until they are done or halted (safe to start twice)",
        description="Evaluate the rollouts (all active ones, or the IDs) every refresh"
        " interval until each is done, halted or aborted. Exit 0 when all are done, 1 when"
        " any halted or was aborted.",
    )
    p.add_argument("rollout_ids", metavar="ID", nargs="*")
    target_options(p)
    p.add_argument("--interval", type=_seconds, metavar="SECONDS", help="between evaluations")
    p.set_defaults(func=run_run)

    p = actions.add_parser(
        "step",
        help="one evaluation of the rollouts, then exit (for cron; safe to start twice)",
        description="Read each active rollout's provider, evaluate the rollout once (start,"
        " gate or halt a wave) and print what it decided or waits for.",
    )
    p.add_argument("rollout_ids", metavar="ID", nargs="*")
    target_options(p)
    p.set_defaults(func=run_step)


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected seconds (got {text!r})") from None
    if not 1 <= value <= 86_400:
        raise argparse.ArgumentTypeError(f"expected 1 to 86400 seconds (got {text!r})")
    return value


def _rollouts(ctx: Context) -> Rollouts:
    from fota_tui.services.rollouts.drivers import Rollouts

    return Rollouts(ctx.workspace)


# --- plan / apply ----------------------------------------------------------------------


def _load(args: argparse.Namespace, ctx: Context) -> Any:
    from fota_tui.services.rollouts.rolloutfile import load_rollout_file

    return in_profile(load_rollout_file(args.file, now=ctx.now), ctx)


def print_plan(planned: RolloutPlan, path: str, ctx: Context) -> None:
    spec = planned.spec
    demo = " (demo)" if ctx.demo else ""
    print(f"Rollout file: {path}")
    print(f"Provider: {spec.provider}, profile {ctx.profile.name}{demo}")
    print(f"Firmware: {clean(spec.firmware)}")
    print(f"Plan: {clean(planned.plan.summary())}")
    reached = 0
    for index, members in enumerate(planned.waves, 1):
        reached += len(members)
        shown = ", ".join(clean(d.device_id) for d in members[:MEMBERS_SHOWN])
        more = f" … and {len(members) - MEMBERS_SHOWN} more" if len(members) > MEMBERS_SHOWN else ""
        print(f"  wave {index}: {devices_text(len(members))} (reaches {reached}): {shown}{more}")
    for device in planned.left_out[:20]:
        print(f"  left out: {clean(device.summary)}")
    for warning in planned.warnings:
        print(f"Note: {clean(warning)}")
    if planned.problems:
        print(f"Problems ({len(planned.problems)}):")
        for item in planned.problems:
            print(f"  {clean(item.message)}  [{item.rule}]")
    if planned.first is not None and planned.first.requests:
        print("Wave 1:")
        print_requests(planned.first)


def _report(planned: RolloutPlan, path: str) -> int:
    for item in planned.problems[:20]:
        print(f"{path}: {clean(item.message)}", file=sys.stderr)
    if planned.ok:
        return 0
    if planned.problems and all(p.rule == "eligibility.unavailable" for p in planned.problems):
        return 1
    return 2


def run_plan(args: argparse.Namespace) -> int:
    with open_context(args) as ctx:
        loaded = _load(args, ctx)
        rollouts = _rollouts(ctx)
        planned = run_async(ctx, lambda: rollouts.engine.plan(loaded.spec, loaded.plan))
    print_plan(planned, str(loaded.path), ctx)
    if planned.ok:
        print("Valid: nothing has been sent.")
    return _report(planned, str(loaded.path))


def run_apply(args: argparse.Namespace) -> int:
    with open_context(args) as ctx:
        loaded = _load(args, ctx)
        require_writable(ctx)
        rollouts = _rollouts(ctx)

        async def work() -> int:
            planned = await rollouts.engine.plan(loaded.spec, loaded.plan)
            print_plan(planned, str(loaded.path), ctx)
            code = _report(planned, str(loaded.path))
            if code:
                return code
            devices = sum(len(w) for w in planned.waves)
            what = (
                f"About to start a rollout of {devices} devices in {len(planned.waves)} waves"
                f" with provider {loaded.spec.provider}; wave 1 ({len(planned.waves[0])}"
                " devices) is sent now."
            )
            if not args.yes and not ask(ctx.profile, what):
                print("Not confirmed; nothing was sent.", file=sys.stderr)
                return 1
            rollout = rollouts.engine.create(planned)
            print(f"Rollout {rollout.rollout_id} recorded.")
            (result,) = await rollouts.step([rollout.rollout_id])
            _print_step(result)
            first = result.rollout.waves[0]
            if result.rollout.state == "halted" or first.state in ("waiting", "starting"):
                print(
                    f"{rollout.rollout_id}: wave 1 was not sent ({result.rollout.state});"
                    f" see 'fota-tui rollout show {rollout.rollout_id}'.",
                    file=sys.stderr,
                )
                return 1
            if ctx.demo:
                print("The demo keeps nothing after this command: 'fota-tui --demo' shows one.")
            else:
                print(
                    f"Drive it with 'fota-tui rollout run {rollout.rollout_id}' (or the"
                    f" console); see it with 'fota-tui rollout show {rollout.rollout_id}'."
                )
            return 0

        return run_async(ctx, work)


# --- reading ---------------------------------------------------------------------------


def run_list(args: argparse.Namespace) -> int:
    from fota_tui.services.rollouts.status import next_decision, wave_position

    with open_context(args) as ctx:
        rollouts = _rollouts(ctx)
        found = rollouts.store.all()
        now = ctx.now()
    for path in rollouts.store.skipped:
        print(f"{path}: unreadable rollout file skipped", file=sys.stderr)
    if not found:
        print(f"No rollouts in profile '{ctx.profile.name}'.")
        return 0
    rows = [["ID", "NAME", "PROVIDER", "STATE", "WAVE", "DEVICES", "NEXT"]]
    for r in found:
        rows.append(
            [
                r.rollout_id,
                clean(r.name),
                r.provider,
                r.state,
                wave_position(r),
                str(r.devices),
                clean(next_decision(r, now)),
            ]
        )
    for line in columns(rows):
        print(line)
    return 0


def rollout_json(rollout: Rollout, now: Any) -> dict[str, Any]:
    from fota_tui.services.rollouts.status import next_decision

    data = rollout.model_dump(mode="json")
    data["next"] = next_decision(rollout, now)
    return data


def run_show(args: argparse.Namespace) -> int:
    from fota_tui.services.rollouts.status import describe

    with open_context(args) as ctx:
        rollout = _rollouts(ctx).store.get(args.rollout_id)
        now = ctx.now()
    if args.format == "json":
        print(json_text(rollout_json(rollout, now), indent=2))
    else:
        for line in describe(rollout, now):
            print(clean(line))
    return 1 if rollout.state == "halted" else 0


# --- operator --------------------------------------------------------------------------


def run_operate(args: argparse.Namespace) -> int:
    with open_context(args) as ctx:
        if args.operation != "ack":
            require_writable(ctx)
        rollouts = _rollouts(ctx)
        engine = rollouts.engine
        rollout = rollouts.store.get(args.rollout_id)
        if args.operation in ("abort", "advance") and not args.yes:
            what = (
                f"Abort rollout {rollout.rollout_id} ({clean(rollout.name)}): no further wave"
                " starts, and running campaigns are cancelled where the platform allows it."
                if args.operation == "abort"
                else f"Skip the soak of rollout {rollout.rollout_id}'s current wave."
            )
            if not ask(ctx.profile, what):
                print("Not confirmed; nothing was changed.", file=sys.stderr)
                return 1

        seen = len(rollout.decisions)

        async def work() -> int:
            if args.operation == "abort":
                done, notes = await engine.abort(args.rollout_id)
                for note in notes:
                    print(clean(note))
            else:
                operate = {
                    "pause": engine.pause,
                    "resume": engine.resume,
                    "advance": engine.advance,
                    "ack": engine.acknowledge,
                }[args.operation]
                done = await operate(args.rollout_id)
            if len(done.decisions) == seen:
                print(f"{done.rollout_id}: {done.state} already; nothing changed")
                return 0
            print(f"{done.rollout_id}: {clean(done.decisions[-1].text)}")
            if args.operation in ("advance", "resume"):
                for result in await rollouts.step([done.rollout_id]):
                    _print_step(result)
            return 0

        return run_async(ctx, work)


# --- drivers ---------------------------------------------------------------------------


def _print_step(result: StepResult, *, quiet: bool = False) -> None:
    """What a step decided; else why it waits, or (unless ``quiet``) what comes next."""
    from fota_tui.services.rollouts.status import next_decision

    rollout = result.rollout
    if result.busy:
        print(f"{rollout.rollout_id}: another driver is stepping it ({clean(result.busy)})")
    for text in result.decisions:
        print(f"{rollout.rollout_id}: {clean(text)}", flush=True)
    if result.decisions or result.busy:
        return
    if rollout.waiting:
        print(f"{rollout.rollout_id}: {clean(rollout.waiting)}", flush=True)
    elif not quiet:
        print(f"{rollout.rollout_id}: {clean(next_decision(rollout, rollout.updated_at))}")


def run_step(args: argparse.Namespace) -> int:
    with open_context(args) as ctx:
        require_writable(ctx)
        rollouts = _rollouts(ctx)

        async def work() -> int:
            results = await rollouts.step(args.rollout_ids or None)
            if not results:
                print("No rollout to step.")
            for result in results:
                _print_step(result)
            return 0

        return run_async(ctx, work)


def run_run(args: argparse.Namespace) -> int:
    with open_context(args) as ctx:
        require_writable(ctx)
        rollouts = _rollouts(ctx)

        async def work() -> int:
            last: dict[str, str] = {}

            def report(result: StepResult) -> None:
                rollout = result.rollout
                if result.decisions or rollout.waiting != last.get(rollout.rollout_id):
                    _print_step(result, quiet=True)
                last[rollout.rollout_id] = rollout.waiting

            final = await rollouts.run(
                args.rollout_ids or None, on_step=report, interval=args.interval
            )
            if not final:
                print("No rollout to run.")
            for rollout in final:
                print(f"{rollout.rollout_id}: {rollout.state}")
            return 1 if any(r.state in ("halted", "aborted") for r in final) else 0

        return run_async(ctx, work)
