"""What the wizard's review and result steps show: a preview (the dry run) and a
submission, as plain ``Content`` (platform text is cleaned and never parsed as markup)."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from textual.content import Content

from fota_tui.providers.base import PlannedRequest
from fota_tui.services.campaigns import Preview, Problem, Submission
from fota_tui.services.campaigns.journal import JournalEntry
from fota_tui.services.campaigns.problems import place
from fota_tui.text import clean

MAX_DEVICES = 40
MAX_REQUESTS = 6
OK_STYLE = "$text-success"
BAD_STYLE = "$text-error"
WARN_STYLE = "$text-warning"
MUTED = "$text-muted"


def plain(value: object, style: str = "") -> Content:
    """Platform text as literal content: never markup, control characters made visible
    (line breaks are kept as line breaks)."""
    text = "" if value is None else str(value)
    parts = [Content.styled(clean(line), style) for line in text.split("\n")]
    return parts[0] if len(parts) == 1 else Content("\n").join(parts)


def heading(text: str) -> Content:
    return Content.styled(text, "bold")


def lines(parts: Iterable[Content]) -> Content:
    return Content("\n").join(list(parts))


def problem_line(
    item: Problem, *, prefix: str = "✗ ", labels: Mapping[str, str] | None = None
) -> Content:
    """``✗ Target #4: message [rule]``: where, in the words the wizard shows (a position
    counted from 1, or the field's visible label from ``labels``), what, and the rule id.
    The spec's own field path (``devices[3]:``) is for files, not for this screen."""
    message = item.message.removeprefix(f"{item.field}: ")
    head = item.field.split("[", 1)[0]
    where = place(item.field) or (labels or {}).get(item.field) or (labels or {}).get(head, "")
    return Content.assemble(
        (prefix, BAD_STYLE),
        (f"{where}: " if where else "", "bold " + BAD_STYLE),
        plain(message, BAD_STYLE),
        (f"  [{item.rule}]", MUTED),
    )


def problems_content(problems: Sequence[Problem]) -> Content:
    return lines(problem_line(p) for p in problems)


def _json(value: Any) -> str:
    try:
        return json.dumps(value, ensure_ascii=False, indent=2, sort_keys=True, default=str)
    except (TypeError, ValueError):
        return repr(value)


def request_content(request: PlannedRequest) -> list[Content]:
    out = [Content.assemble((f"{request.method} ", "bold"), plain(request.url))]
    if request.params:
        out.append(Content.assemble(("  params ", MUTED), plain(_json(request.params))))
    if request.body is not None:
        body = _json(request.body).replace("\n", "\n  ")
        out.append(Content.assemble(("  body ", MUTED), plain(body)))
    if request.note:
        out.append(Content.assemble(("  note ", MUTED), plain(request.note)))
    return out


def preview_content(preview: Preview) -> Content:
    """The dry run: summary, problems, warnings, split plan, devices, requests."""
    out: list[Content] = []
    spec = preview.spec
    eligible = len(preview.eligible)
    requested = len(preview.devices)
    fw = preview.firmware
    fw_text = spec.firmware
    if fw is not None and fw.name != spec.firmware:
        fw_text += f" {fw.name}"
    if fw is not None and fw.version:
        fw_text += (
            f" ({fw.from_version} → {fw.version})" if fw.from_version else f" (→ {fw.version})"
        )
    verdict = (
        Content.styled("✓ ready to submit", f"bold {OK_STYLE}")
        if preview.ok
        else Content.styled(
            f"✗ {len(preview.problems)} problem(s): nothing can be sent", f"bold {BAD_STYLE}"
        )
    )
    out += [
        verdict,
        Content.assemble(
            ("provider ", MUTED),
            plain(f"{preview.provider} ({preview.kind.label})"),
            ("   submission ", MUTED),
            plain(preview.batch_id),
        ),
        Content.assemble(("firmware ", MUTED), plain(fw_text)),
    ]
    if spec.devices:
        out.append(
            Content.assemble(
                ("devices ", MUTED),
                f"{eligible} of {requested} eligible",
                (f"   jobs {len(preview.parts)}", "") if preview.parts else "",
            )
        )
    if spec.device_groups:
        out.append(Content.assemble(("groups ", MUTED), plain(", ".join(spec.device_groups))))
    if preview.problems:
        out += [Content(""), heading(f"Problems ({len(preview.problems)})")]
        out += [problem_line(p) for p in preview.problems]
    if preview.warnings:
        out += [Content(""), heading("Warnings")]
        out += [
            Content.assemble(("! ", WARN_STYLE), plain(w, WARN_STYLE)) for w in preview.warnings
        ]
    if len(preview.parts) > 1:
        out += [Content(""), heading(f"Split plan: {len(preview.parts)} jobs")]
        cap = preview.max_per_job
        for index, part in enumerate(preview.parts, 1):
            out.append(
                Content.assemble(
                    f"job {index}/{len(preview.parts)}: {len(part.devices)} devices",
                    (f" (at most {cap} per job)" if cap else "", MUTED),
                    ("  name ", MUTED),
                    plain(part.name),
                )
            )
    if preview.devices:
        out += [Content(""), heading(f"Devices ({eligible} eligible of {requested})")]
        ordered = sorted(preview.devices, key=lambda d: d.eligible)  # ineligible first
        for item in ordered[:MAX_DEVICES]:
            device = item.device
            about = " ".join(filter(None, [device.model, device.firmware])) if device else ""
            mark = ("✓ ", OK_STYLE) if item.eligible else ("✗ ", BAD_STYLE)
            head: list[Content | str | tuple[str, str]] = [
                mark,
                plain(item.device_id),
                "  ",
                plain(about, MUTED),
            ]
            if item.eligible:
                out.append(Content.assemble(*head, "  ", plain("eligible", OK_STYLE)))
                continue
            out.append(Content.assemble(*head))
            for reason in item.reasons:  # one per line, without repeating the id
                text = reason.message.removeprefix(f"{item.device_id}: ")
                out.append(Content.assemble("    ", plain(text, BAD_STYLE)))
        if len(ordered) > MAX_DEVICES:
            out.append(Content.styled(f"… and {len(ordered) - MAX_DEVICES} more", MUTED))
    if preview.requests:
        total = len(preview.all_requests)
        out += [Content(""), heading(f"Requests that will be sent ({total}, secrets masked)")]
        shown = preview.all_requests[:MAX_REQUESTS]
        for request in shown:
            out += request_content(request)
        if total > len(shown):
            out.append(
                Content.styled(f"… and {total - len(shown)} more requests of the same shape", MUTED)
            )
    return lines(out)


def entry_content(entry: JournalEntry) -> list[Content]:
    state_style = {"created": OK_STYLE, "failed": BAD_STYLE}.get(entry.state, WARN_STYLE)
    part = f"job {entry.part}/{entry.parts} " if entry.parts > 1 else ""
    out = [
        Content.assemble(
            part,
            (entry.state, f"bold {state_style}"),
            ("  " if entry.campaign_ids else "", ""),
            plain(", ".join(entry.campaign_ids)),
        )
    ]
    if entry.error is not None:
        err = entry.error
        where = err.spec_field or err.field
        code = f" (code {err.code})" if err.code else ""
        out.append(
            Content.assemble(
                ("  platform said: ", MUTED),
                plain(f"{where}: " if where else ""),
                plain(f"{err.title}{code}: {err.message}", BAD_STYLE),
            )
        )
    for event in entry.events[-3:]:
        if event.note:
            out.append(Content.assemble(("  · ", MUTED), plain(event.note, MUTED)))
    if entry.not_reached:
        out.append(plain(f"  not reached: {', '.join(entry.not_reached)}", WARN_STYLE))
    if entry.unconfirmed:
        out.append(plain(f"  unconfirmed: {', '.join(entry.unconfirmed)}", WARN_STYLE))
    return out


OUTCOME_TEXT = {
    "created": "Created.",
    "failed": "The platform refused it; nothing was created.",
    "unknown": (
        "The platform's answer was lost and it could not be checked yet. The journal keeps"
        " the submission unresolved: nothing more is sent for this provider until it is"
        " reconciled ('fota-tui campaign list' does it)."
    ),
    "partial": "Only part of it was created; the rest was not sent.",
}


def submission_content(submission: Submission) -> Content:
    outcome = submission.outcome
    style = OK_STYLE if outcome == "created" else BAD_STYLE if outcome == "failed" else WARN_STYLE
    out = [Content.styled(OUTCOME_TEXT[outcome], f"bold {style}")]
    if submission.already_submitted:
        out.append(
            Content.styled(
                "This preview had already been submitted; nothing was sent again.", WARN_STYLE
            )
        )
    if any(e.reconciled for e in submission.entries):
        out.append(
            Content.styled(
                "The answer was lost; fota-tui listed the platform's campaigns to find out"
                " what happened (reconciliation) instead of sending again.",
                WARN_STYLE,
            )
        )
    out.append(Content.assemble(("submission ", MUTED), plain(submission.batch_id)))
    for entry in submission.entries:
        out += entry_content(entry)
    if submission.not_sent:
        out.append(plain(f"{submission.not_sent} job(s) were not sent", WARN_STYLE))
    return lines(out)
