"""The campaign wizard's platform fields, built from the platform's declaration.

Each provider package declares the fields its campaigns take (``Platform.fields``); the
functions here turn them into the widgets of one step, for the chosen platform only
(four platforms' worth of fields at once would make every keystroke re-layout far more
widgets than are shown). A control's id is its field's key.
"""

from __future__ import annotations

from textual.containers import Horizontal
from textual.content import Content
from textual.widget import Widget
from textual.widgets import Checkbox, Input, Select, Static

from fota_tui.models import Capabilities, Firmware
from fota_tui.providers.platform import FormField, Platform
from fota_tui.services.campaigns import CampaignService
from fota_tui.tui.screens.wizard_review import MUTED, plain
from fota_tui.tui.widgets.wizard_field import WizardField


def _row(*fields: Widget) -> Horizontal:
    return Horizontal(*fields, classes="row")


def _widget(item: FormField) -> Widget:
    if item.kind == "check":
        return Checkbox(item.label, id=item.key)
    control: Widget
    if item.kind == "choice":
        control = Select(list(item.choices), allow_blank=False, id=item.key)
    else:
        control = Input(id=item.key, placeholder=item.placeholder)
    return WizardField(item.label, control, (item.target, *item.also), hint=item.hint)


def declared(items: tuple[FormField, ...] | list[FormField]) -> list[Widget]:
    """The fields' widgets in order; fields of the same ``row`` share a line."""
    out: list[Widget | list[Widget]] = []
    rows: dict[int, list[Widget]] = {}
    for item in items:
        widget = _widget(item)
        if not item.row:
            out.append(widget)
        elif item.row in rows:
            rows[item.row].append(widget)
        else:
            rows[item.row] = [widget]
            out.append(rows[item.row])
    return [_row(*w) if isinstance(w, list) else w for w in out]


def _chosen_firmware() -> WizardField:
    return WizardField(
        "Chosen firmware",
        Static(id="fw-chosen", markup=False),
        ("firmware", "firmware_to", "firmware_from", "options.protocol"),
    )


def firmware_filters(platform: Platform) -> list[Widget]:
    """Fields above the firmware list (they filter it)."""
    return declared([f for f in platform.step_fields("firmware") if f.above_list])


def firmware_fields(platform: Platform) -> list[Widget]:
    """Fields below the firmware list: the choice, or the typed package and its details."""
    chosen: list[Widget] = [] if platform.typed_firmware else [_chosen_firmware()]
    return chosen + declared([f for f in platform.step_fields("firmware") if not f.above_list])


def target_fields(platform: Platform, caps: Capabilities | None) -> list[Widget]:
    """Device groups and the split, where the platform has them."""
    out: list[Widget] = []
    if caps is not None and caps.device_groups:
        out.append(
            WizardField(
                "Device groups (comma separated; instead of devices)",
                Input(id="tg-groups", placeholder="group names"),
                ("device_groups", *(t for t, step in platform.derived_steps if step == "targets")),
                hint=f"A {platform.label} job takes devices or groups, never both.",
            )
        )
    if caps is not None and caps.max_targets_per_campaign:
        cap = caps.max_targets_per_campaign
        out.append(
            Checkbox(
                f"Split into several jobs of at most {cap} devices ({platform.label}'s limit)",
                id="tg-split",
            )
        )
    return out


def schedule_fields(platform: Platform) -> list[Widget]:
    fields = declared(platform.step_fields("schedule"))
    if fields:
        return fields
    note = platform.schedule_note or f"{platform.label} has nothing to schedule."
    return [Static(note, classes="intro", markup=False)]


def capabilities_text(svc: CampaignService) -> Content:
    """What the platform can do, in one line (provider step)."""
    caps = svc.capabilities
    facts = ["cancel" if svc.can_cancel else "no cancel"]
    if caps.add_remove_devices:
        facts.append("add/remove devices")
    if caps.device_groups:
        facts.append("device groups")
    if caps.time_windows:
        facts.append("time windows")
    if caps.max_targets_per_campaign:
        facts.append(f"at most {caps.max_targets_per_campaign} devices per job")
    if not caps.native_campaigns:
        facts.append("the campaign is a grouping kept by fota-tui")
    return Content.assemble((f"{svc.kind.label}: ", "bold"), (" · ".join(facts), MUTED))


def firmware_line(fw: Firmware, fits: int | None, models: int, width: int = 0) -> Content:
    """One firmware list entry: how many of the chosen devices it fits (by model), its
    name, versions and what it is for."""
    parts: list[Content | str | tuple[str, str]] = []
    if fits is not None and models:
        style = "$text-success" if fits == models else "$text-warning" if fits else "$text-error"
        parts.append((f"fits {fits}/{models}  ", style))
    parts.append(plain(fw.name.ljust(width), "bold"))
    if fw.version:
        versions = f"{fw.from_version} → {fw.version}" if fw.from_version else f"→ {fw.version}"
        parts += ["  ", plain(versions)]
    about = " ".join(filter(None, [fw.make, fw.model, fw.device_type, fw.protocol]))
    if about:
        parts += ["  ", plain(about, MUTED)]
    return Content.assemble(*parts)
