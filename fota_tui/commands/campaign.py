"""``fota-tui campaign plan | apply | list | show | cancel | journal``.

Campaign files are TOML with the ``CampaignSpec`` fields (see
``fota_tui.services.campaigns.specfile``). ``plan`` is the dry run (exit 0 when valid,
2 with one ``FILE: field: message`` line per problem); ``apply`` plans, asks, then
submits through the journal (exactly once). With ``--demo`` everything runs against an
in-process simulator whose journal lives only as long as the command.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from fota_tui.commands import open_workspace, target_options
from fota_tui.config.schema import Profile
from fota_tui.errors import ConfigError, FotaError, ProviderError, ProviderNotFound, UsageError
from fota_tui.text import clean, columns, json_text, shorten

if TYPE_CHECKING:
    from fota_tui.services.campaigns import CampaignSession
    from fota_tui.services.workspace import Workspace

T = TypeVar("T")
LIST_LIMIT = 8  # items of a long list shown in a request body
DEVICE_LIMIT = 20  # ineligible devices listed before "… and N more"


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "campaign",
        help="plan, apply, list, show and cancel campaigns (campaign files are TOML)",
        description="Firmware campaigns as files: plan (dry run), apply (submit exactly once"
        " through the journal), list, show, cancel, journal.",
    )
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)

    p = actions.add_parser(
        "plan",
        help="dry run: check a campaign file against the platform (sends nothing)",
        description="Check FILE against the platform's rules and current devices and print"
        " the exact requests (secrets masked). Exit 0 when valid, 2 when not.",
    )
    _file_options(p)
    p.add_argument("--json", action="store_true", help="print the plan as JSON")
    p.set_defaults(func=run_plan)

    p = actions.add_parser(
        "apply",
        help="plan, confirm, then submit a campaign file (journaled, exactly once)",
        description="Plan FILE; if it is valid, ask for confirmation (in a production profile:"
        " type the profile name) and submit it through the journal. Exit 0 when every job was"
        " created, 1 when not (or not confirmed), 2 when the file is invalid.",
    )
    _file_options(p)
    p.add_argument("--yes", "-y", action="store_true", help="do not ask for confirmation")
    p.set_defaults(func=run_apply)

    p = actions.add_parser("list", help="list campaigns of every provider (or one)")
    _common(p)
    p.set_defaults(func=run_list)

    p = actions.add_parser("show", help="show one campaign and its devices")
    p.add_argument("campaign_id", metavar="ID")
    _common(p)
    p.add_argument("--all", action="store_true", help="list every device (default: first 50)")
    p.set_defaults(func=run_show)

    p = actions.add_parser(
        "cancel",
        help="cancel a campaign (where the platform allows it)",
        description="Cancel (or abort, after start) a campaign. OceanConnect and AOVX cannot"
        " cancel; OneNET cancels the commands still waiting.",
    )
    p.add_argument("campaign_id", metavar="ID")
    _common(p)
    p.add_argument("--yes", "-y", action="store_true", help="do not ask for confirmation")
    p.set_defaults(func=run_cancel)

    p = actions.add_parser("journal", help="the submission journal (audit trail)")
    _common(p)
    p.set_defaults(func=run_journal)


def _common(parser: argparse.ArgumentParser) -> None:
    target_options(parser)
    parser.add_argument("--provider", metavar="NAME", help="only this provider")


def _file_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("file", metavar="FILE", help="campaign TOML file")
    target_options(parser)
    parser.add_argument(
        "--split",
        action="store_true",
        help="accept splitting a device list the platform cannot take in one job",
    )


# --- context ---------------------------------------------------------------------------


@dataclass
class Context:
    workspace: Workspace
    session: CampaignSession
    demo: bool

    @property
    def profile(self) -> Profile:
        return self.workspace.profile

    @property
    def now(self) -> Callable[[], datetime]:
        return self.workspace.now

    def providers(self, only: str | None) -> list[str]:
        names = self.session.provider_names
        if only is None:
            return list(names)
        if only not in names:
            raise UsageError(
                f"--provider: no provider {only!r} in profile {self.profile.name!r};"
                f" it has: {', '.join(names) or '(none)'}"
            )
        return [only]


@contextmanager
def open_context(args: argparse.Namespace) -> Iterator[Context]:
    with open_workspace(args) as workspace:
        yield Context(workspace, workspace.campaigns(), bool(getattr(args, "demo", False)))


def run_async(ctx: Context, work: Callable[[], Awaitable[T]]) -> T:
    async def main() -> T:
        try:
            return await work()
        finally:
            await ctx.workspace.aclose()

    return asyncio.run(main())


def _confirm(prompt: str, expected: str) -> bool:
    print(prompt, end="", flush=True)
    try:
        answer = input()
    except EOFError:
        print()
        return False
    return answer.strip() == expected or (expected == "y" and answer.strip().lower() == "yes")


def ask(profile: Profile, what: str) -> bool:
    if profile.environment == "production":
        return _confirm(
            f"{what}\nThis is the production profile '{profile.name}'. Type its name to confirm: ",
            profile.name,
        )
    return _confirm(f"{what}\nProceed? [y/N] ", "y")


def require_writable(ctx: Context) -> None:
    """Said before anything is asked (the service refuses again, whatever the caller)."""
    profile = ctx.profile
    if ctx.workspace.read_only:
        raise UsageError(
            f"profile '{profile.name}' is read-only (read_only = true or --read-only);"
            " nothing was sent"
        )


# --- plan / apply ----------------------------------------------------------------------


def _load(args: argparse.Namespace, ctx: Context) -> Any:
    from fota_tui.services.campaigns import load_spec_file

    return in_profile(load_spec_file(args.file, now=ctx.now), ctx)


def in_profile(loaded: Any, ctx: Context) -> Any:
    """A loaded campaign or rollout file whose provider is one of the profile's."""
    if loaded.spec.provider not in ctx.session.provider_names:
        raise ConfigError(
            f"no provider {loaded.spec.provider!r} in profile '{ctx.profile.name}'"
            f" (it has: {', '.join(ctx.session.provider_names) or 'none'})",
            path=str(loaded.path),
            key="provider",
        )
    return loaded


async def _preview(ctx: Context, loaded: Any, split: bool) -> Any:
    service = ctx.session.service(loaded.spec.provider)
    for entry in await service.reconcile_pending():  # the preview holds back what is open
        print(f"{service.name}: {entry.submission_id}: {clean(entry.events[-1].note)}")
    return await service.preview(loaded.spec, split=split or loaded.split)


def run_plan(args: argparse.Namespace) -> int:
    with open_context(args) as ctx:
        loaded = _load(args, ctx)
        preview = run_async(ctx, lambda: _preview(ctx, loaded, args.split))
    if args.json:
        print(json_text(preview_json(preview), indent=2))
    else:
        print_preview(preview, loaded.path, ctx)
    return _report_problems(preview, loaded.path)


PROBLEMS_SHOWN = 20  # on stderr; the preview (and --json) has them all


def _report_problems(preview: Any, path: Path) -> int:
    """0 when the file can be sent, 2 when the file is wrong, 1 when it could not be
    checked because a platform did not answer (the file may well be right)."""
    for item in preview.problems[:PROBLEMS_SHOWN]:
        print(f"{path}: {clean(item.message)}", file=sys.stderr)
    if len(preview.problems) > PROBLEMS_SHOWN:
        print(f"{path}: … and {len(preview.problems) - PROBLEMS_SHOWN} more", file=sys.stderr)
    if preview.ok:
        return 0
    if not preview.problems:
        print(f"{path}: nothing to send", file=sys.stderr)
    if preview.problems and all(p.rule == "eligibility.unavailable" for p in preview.problems):
        return 1
    return 2


def run_apply(args: argparse.Namespace) -> int:
    with open_context(args) as ctx:
        loaded = _load(args, ctx)
        require_writable(ctx)

        async def work() -> int:
            preview = await _preview(ctx, loaded, args.split)
            print_preview(preview, loaded.path, ctx, dry_run=False)
            code = _report_problems(preview, loaded.path)
            if code:
                return code
            jobs = len(preview.parts)
            count = len(preview.eligible) or "the groups'"
            what = (
                f"About to create {jobs} {preview.kind.label} job{'s' if jobs != 1 else ''}"
                f" for {count} devices with provider {preview.provider}."
            )
            if not args.yes and not ask(ctx.profile, what):
                print("Not confirmed; nothing was sent.", file=sys.stderr)
                return 1
            submission = await ctx.session.service(preview.provider).submit(preview)
            return print_submission(submission, ctx)

        return run_async(ctx, work)


# --- printing --------------------------------------------------------------------------


def _time(value: datetime | None) -> str:
    if value is None:
        return "-"
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%SZ")


def _shown(value: Any) -> Any:
    """A request body for reading: long lists are cut (``--json`` prints everything)."""
    if isinstance(value, dict):
        return {k: _shown(v) for k, v in value.items()}
    if isinstance(value, list):
        if len(value) > LIST_LIMIT:
            return [*map(_shown, value[:LIST_LIMIT]), f"… {len(value) - LIST_LIMIT} more"]
        return [_shown(v) for v in value]
    return value


def print_preview(preview: Any, path: Path, ctx: Context, *, dry_run: bool = True) -> None:
    spec = preview.spec
    label = preview.kind.label
    demo = " (demo)" if ctx.demo else ""
    print(f"Campaign file: {path}")
    print(f"Provider: {preview.provider} ({label}), profile {ctx.profile.name}{demo}")
    fw = preview.firmware
    target = f" → {fw.version}" if fw is not None and fw.version else ""
    print(f"Firmware: {clean(spec.firmware)}{clean(target)}")
    if spec.device_groups:
        print(f"Device groups: {', '.join(clean(g) for g in spec.device_groups)}")
    if preview.devices:
        eligible = len(preview.eligible)
        print(f"Devices: {len(preview.devices)} requested, {eligible} eligible")
        left_out = preview.ineligible
        for item in left_out[:DEVICE_LIMIT]:
            print(f"  left out: {clean(item.summary)}")
        if len(left_out) > DEVICE_LIMIT:
            print(f"  … and {len(left_out) - DEVICE_LIMIT} more left out")
    for warning in preview.warnings:
        print(f"Note: {clean(warning)}")
    if preview.problems:
        print(f"Problems ({len(preview.problems)}):")
        for item in preview.problems:
            print(f"  {clean(item.message)}  [{item.rule}]")
    print_requests(preview)
    if preview.ok:
        print("Valid: nothing has been sent." if dry_run else "Valid.")


def print_requests(preview: Any) -> None:
    """Each job of a preview and its exact requests (secrets masked)."""
    for index, requests in enumerate(preview.requests, 1):
        print(
            f"Job {index} of {len(preview.requests)}: {clean(preview.parts[index - 1].name or '')}"
        )
        for request in requests:
            print(f"  {request.method} {clean(request.url)}")
            if request.params:
                print(f"    params: {clean(json.dumps(request.params, ensure_ascii=False))}")
            if request.body is not None:
                body = json.dumps(_shown(request.body), indent=2, ensure_ascii=False, default=str)
                for line in body.splitlines():
                    print(f"    {clean(line)}")
            if request.note:
                print(f"    # {clean(request.note)}")


def preview_json(preview: Any) -> dict[str, Any]:
    return {
        "ok": preview.ok,
        "provider": preview.provider,
        "kind": preview.kind.value,
        "batch_id": preview.batch_id,
        "problems": [
            {"field": p.field, "message": p.message, "rule": p.rule} for p in preview.problems
        ],
        "devices": [
            {
                "device_id": d.device_id,
                "eligible": d.eligible,
                "reasons": [{"code": r.code.value, "message": r.message} for r in d.reasons],
            }
            for d in preview.devices
        ],
        "jobs": [
            {
                "spec": part.model_dump(mode="json"),
                "requests": [
                    {
                        "method": r.method,
                        "url": r.url,
                        "params": r.params,
                        "body": r.body,
                        "note": r.note,
                    }
                    for r in (preview.requests[i] if i < len(preview.requests) else ())
                ],
            }
            for i, part in enumerate(preview.parts)
        ],
        "warnings": list(preview.warnings),
    }


def print_submission(submission: Any, ctx: Context) -> int:
    if submission.already_submitted:
        print(f"Submission {submission.batch_id} was already sent; nothing sent again.")
    for entry in submission.entries:
        head = f"Job {entry.part} of {entry.parts} ({entry.submission_id}): {entry.state}"
        if entry.campaign_ids:
            head += f" → campaign {', '.join(entry.campaign_ids)}"
        print(head)
        if entry.reconciled:
            print(f"  {clean(entry.events[-1].note)}")
        if entry.not_reached:
            print(f"  not reached: {', '.join(entry.not_reached[:DEVICE_LIMIT])}")
        if entry.unconfirmed:
            print(
                f"  unconfirmed (may or may not have been reached; held back):"
                f" {', '.join(entry.unconfirmed[:DEVICE_LIMIT])}"
            )
        if entry.state in ("failed", "unknown") and entry.error is not None:
            err = entry.error
            where = f" {err.field}:" if err.field else ""
            code = f" [{err.code}]" if err.code else ""
            print(f"  {err.title}{code}{where} {clean(err.message)}")
    if submission.not_sent:
        print(f"{submission.not_sent} job(s) not sent because an earlier job did not succeed.")
    if submission.outcome == "unknown":
        print(
            "The outcome is uncertain: a platform answer was lost and the platform does not"
            " show all of it yet. Nothing will be sent to these devices until it is"
            " resolved; 'fota-tui campaign journal' reconciles and shows it."
        )
    if ctx.demo:
        print("(demo: the simulator and its journal end with this command)")
    else:
        print(f"Journal: {ctx.session.journal.folder}")
    if submission.outcome == "unknown":
        from fota_tui.services.campaigns.submit import UNCERTAIN_EXIT

        return UNCERTAIN_EXIT
    return 0 if submission.outcome == "created" else 1


# --- list / show / cancel / journal ------------------------------------------------------


def _table(rows: list[list[str]]) -> None:
    print("\n".join(columns(rows)))


def _created(campaign: Any) -> datetime:
    return campaign.created_at or datetime.min.replace(tzinfo=UTC)


def run_list(args: argparse.Namespace) -> int:
    from fota_tui.models import UpgradeState

    with open_context(args) as ctx:
        names = ctx.providers(args.provider)

        async def work() -> int:
            failed: list[FotaError] = []
            rows = [["PROVIDER", "ID", "NAME", "STATE", "DEVICES", "OK", "FAIL+EXP", "CREATED"]]
            for name in names:
                try:
                    service = ctx.session.service(name)
                    for entry in await service.reconcile_pending():
                        print(f"{name}: {entry.submission_id}: {clean(entry.events[-1].note)}")
                    campaigns = await service.campaigns()
                except (ProviderError, ConfigError) as exc:
                    failed.append(exc)
                    print(f"fota-tui: {name}: {exc.title}: {exc.message}", file=sys.stderr)
                    continue
                for c in sorted(campaigns, key=_created, reverse=True):
                    bad = c.counts.get(UpgradeState.FAILED, 0) + c.counts.get(
                        UpgradeState.EXPIRED, 0
                    )
                    rows.append(
                        [
                            name,
                            clean(c.campaign_id),
                            shorten(c.name or "", 40),
                            c.state.value,
                            str(c.total),
                            str(c.counts.get(UpgradeState.SUCCEEDED, 0)),
                            str(bad),
                            _time(c.created_at),
                        ]
                    )
            if len(rows) > 1:
                _table(rows)
            else:
                print("No campaigns.")
            # As `status`: 2 when a provider is misconfigured, 1 when one did not answer.
            if any(isinstance(exc, ConfigError) for exc in failed):
                return 2
            return 1 if failed else 0

        return run_async(ctx, work)


async def _find(ctx: Context, names: list[str], campaign_id: str) -> tuple[Any, Any]:
    """The service and detail of the provider that knows ``campaign_id``. A provider that
    cannot be opened (a missing secret) or read is skipped and named, never fatal when
    another provider has the campaign."""
    errors: list[ProviderError | ConfigError] = []
    asked: list[str] = []  # the providers that answered "no such campaign"
    for name in names:
        try:
            service = ctx.session.service(name)
            return service, await service.campaign(campaign_id)
        except ProviderNotFound:
            asked.append(name)
        except (ProviderError, ConfigError) as exc:
            errors.append(exc)
            print(f"fota-tui: {name} skipped: {exc.title}: {exc.message}", file=sys.stderr)
    if errors and not asked:
        raise errors[0]
    skipped = [n for n in names if n not in asked]
    unasked = f"; not asked: {', '.join(skipped)} (see above)" if skipped else ""
    raise UsageError(
        f"no campaign {campaign_id!r} in {', '.join(asked)} (profile '{ctx.profile.name}'){unasked}"
    )


def run_show(args: argparse.Namespace) -> int:
    with open_context(args) as ctx:
        names = ctx.providers(args.provider)

        async def work() -> int:
            service, detail = await _find(ctx, names, args.campaign_id)
            c = detail.campaign
            print(f"Campaign {clean(c.campaign_id)} ({service.kind.label}, {service.name})")
            print(f"  name: {clean(c.name or '-')}")
            print(f"  state: {c.state.value} (platform: {clean(str(c.provider_status_raw))})")
            print(f"  firmware: {clean(c.firmware_name or '-')} → {clean(c.firmware_to or '-')}")
            times = f"created {_time(c.created_at)}, start {_time(c.start_at)}"
            print(f"  times: {times}, end {_time(c.end_at)}")
            counts = ", ".join(f"{s.value} {n}" for s, n in c.counts.items() if n)
            print(f"  devices: {c.total} ({counts or 'none reported'})")
            if c.local:
                print("  (a grouping kept by fota-tui: the platform has no such object)")
            entry = service.journal.for_campaign(service.name, c.campaign_id)
            if entry is not None:
                print(
                    f"  submitted by {entry.user} at {_time(entry.first_sent_at)}"
                    f" ({entry.submission_id}, {entry.state})"
                )
            print(f"  cancel: {'yes' if service.can_cancel else 'not supported'}")
            devices = detail.devices if args.all else detail.devices[:50]
            if devices:
                rows = [["DEVICE", "STATE", "PLATFORM", "REASON", "UPDATED"]]
                rows += [
                    [
                        clean(d.device_id),
                        d.state.value,
                        shorten(str(d.provider_status_raw), 24),
                        shorten(d.provider_reason or "", 50),
                        _time(d.updated_at),
                    ]
                    for d in devices
                ]
                _table(rows)
            if len(detail.devices) > len(devices):
                print(f"… {len(detail.devices) - len(devices)} more (--all lists every device)")
            return 0

        return run_async(ctx, work)


def run_cancel(args: argparse.Namespace) -> int:
    with open_context(args) as ctx:
        names = ctx.providers(args.provider)
        require_writable(ctx)

        async def work() -> int:
            service, detail = await _find(ctx, names, args.campaign_id)
            if not service.can_cancel:
                from fota_tui.services.campaigns.operations import cancel_unsupported_reason

                raise UsageError(cancel_unsupported_reason(service.kind))
            c = detail.campaign
            what = (
                f"About to cancel campaign {clean(c.campaign_id)} ({clean(c.name or '-')},"
                f" {c.state.value}, {c.total} devices) on {service.name}."
            )
            if not args.yes and not ask(ctx.profile, what):
                print("Not confirmed; nothing was changed.", file=sys.stderr)
                return 1
            result = await service.cancel(c.campaign_id)
            print(f"Campaign {clean(result.campaign_id)}: {result.state.value}")
            return 0

        return run_async(ctx, work)


async def _reconcile_journal(ctx: Context, names: list[str]) -> None:
    """Settle what is open (and look again for what was concluded absent lately)."""
    open_ = {e.provider for e in ctx.session.journal.entries() if e.unresolved or e.absent_since}
    for name in (n for n in names if n in open_):
        try:
            await ctx.session.service(name).reconcile_pending()
        except (ProviderError, ConfigError) as exc:
            print(f"fota-tui: {name}: not reconciled: {exc.title}: {exc.message}", file=sys.stderr)


def _journal_state(entry: Any) -> str:
    if entry.corrected:
        return f"{entry.state} (corrected)"
    return entry.state + (" (reconciled)" if entry.reconciled else "")


def run_journal(args: argparse.Namespace) -> int:
    with open_context(args) as ctx:
        names = ctx.providers(args.provider)
        run_async(ctx, lambda: _reconcile_journal(ctx, names))
        entries = [e for e in ctx.session.journal.entries() if e.provider in names]
        for skipped in ctx.session.journal.skipped:
            print(f"fota-tui: unreadable journal entry skipped: {skipped}", file=sys.stderr)
        if not entries:
            print(f"No submissions in {ctx.session.journal.folder}.")
            return 0
        rows = [["WHEN", "WHO", "PROVIDER", "SUBMISSION", "JOB", "STATE", "CAMPAIGNS", "DEVICES"]]
        rows += [
            [
                _time(e.first_sent_at or e.created_at),
                clean(e.user),
                e.provider,
                e.submission_id,
                f"{e.part}/{e.parts}",
                _journal_state(e),
                ", ".join(e.campaign_ids) or "-",
                str(len(e.device_ids)),
            ]
            for e in entries
        ]
        _table(rows)
        for e in entries:
            if e.unresolved or e.corrected:
                print(f"{e.submission_id}: {clean(e.events[-1].note)}")
        return 0
