"""The campaign wizard's platform-specific fields, built for the chosen platform only.

Each function returns the widgets one step needs for one platform; the wizard mounts
them when the provider is chosen (four platforms' worth of fields at once would make
every keystroke re-layout far more widgets than are shown). The control ids are what
``CampaignWizardScreen`` reads and writes.
"""

from __future__ import annotations

from textual.containers import Horizontal
from textual.content import Content
from textual.widget import Widget
from textual.widgets import Checkbox, Input, Select, Static

from fota_tui.models import ExecuteType, Firmware, ProviderKind
from fota_tui.services.campaigns import CampaignService
from fota_tui.tui.screens.wizard_review import MUTED, plain
from fota_tui.tui.widgets.wizard_field import WizardField

TS, OC, ON, AX = (
    ProviderKind.THINGSPACE,
    ProviderKind.OCEANCONNECT,
    ProviderKind.ONENET,
    ProviderKind.AOVX,
)
TRIGGERS = (
    (1, "1 REGISTER"),
    (2, "2 UPDATE"),
    (3, "3 REGISTER | UPDATE"),
    (4, "4 NOTIFY"),
    (5, "5 REGISTER | NOTIFY"),
    (6, "6 UPDATE | NOTIFY"),
    (7, "7 NOTIFY | UPDATE | REGISTER (default)"),
)
TIME_HINT = "A date, 2026-11-23 08:00 (UTC), now, or +30m / +2h / +7d."
START_END = {
    TS: ("Start date (UTC, sent as YYYY-MM-DD)", "End date (UTC)"),
    OC: ("Start (UTC; custom window only)", "End (UTC; custom window only)"),
    ON: ("Valid from (valid_time, UTC; empty = now)", "Expires (expired_time, UTC; required)"),
}


def _row(*fields: Widget) -> Horizontal:
    return Horizontal(*fields, classes="row")


def _chosen_firmware() -> WizardField:
    return WizardField(
        "Chosen firmware",
        Static(id="fw-chosen", markup=False),
        ("firmware", "firmware_to", "firmware_from", "options.protocol"),
    )


def firmware_filters(kind: ProviderKind) -> list[Widget]:
    """Fields above the firmware list (they filter it)."""
    if kind is not OC:
        return []
    return [
        WizardField(
            "Upgrade type (the list shows the packages of this type)",
            Select(
                [("Firmware upgrade", "firmware"), ("Software upgrade", "software")],
                allow_blank=False,
                id="oc-file-type",
            ),
            ("options.file_type",),
        )
    ]


def firmware_fields(kind: ProviderKind) -> list[Widget]:
    """Fields below the firmware list."""
    if kind in (TS, OC):
        return [_chosen_firmware()]
    if kind is ON:
        return [
            WizardField(
                "Package URI written to /5/0/1",
                Input(id="onenet-uri", placeholder="coap://host/path/package.bin"),
                ("firmware",),
                hint="http, https, coap or coaps; the cached write carries at most 2 KB.",
            ),
            WizardField(
                "Version label (optional; kept in the journal)",
                Input(id="onenet-version", placeholder="e.g. BC28JAR01A09"),
                ("firmware_to",),
            ),
        ]
    return [
        WizardField(
            "File URL (fileUrl)",
            Input(id="aovx-url", placeholder="http://host/path/file.bin"),
            ("firmware",),
            hint="Its scheme must match the protocol: http(s) for HTTP, ftp for FTP.",
        ),
        WizardField(
            "Version label (empty = the file name)",
            Input(id="aovx-version"),
            ("options.version", "firmware_to"),
        ),
        _row(
            WizardField(
                "Type",
                Select([("0 app", 0), ("1 core", 1)], allow_blank=False, id="aovx-type"),
                ("options.type",),
            ),
            WizardField(
                "Mode",
                Select(
                    [("0 whole package", 0), ("1 differential", 1)],
                    allow_blank=False,
                    id="aovx-mode",
                ),
                ("options.mode",),
            ),
            WizardField(
                "Protocol",
                Select([("0 FTP", 0), ("1 HTTP", 1)], allow_blank=False, id="aovx-protocol"),
                ("options.protocol",),
            ),
        ),
    ]


def target_fields(kind: ProviderKind) -> list[Widget]:
    if kind is not OC:
        return []
    return [
        WizardField(
            "Device groups (comma separated; instead of devices)",
            Input(id="tg-groups", placeholder="group names"),
            ("device_groups", "options.device_type", "options.model", "options.manufacturer"),
            hint="An OceanConnect task takes devices or groups, never both.",
        ),
        Checkbox(
            "Split into several tasks of at most 256 devices (OceanConnect's limit)",
            id="tg-split",
        ),
    ]


def _times(kind: ProviderKind) -> Horizontal:
    start, end = START_END[kind]
    return _row(
        WizardField(start, Input(id="sc-start"), ("start_at",), hint=TIME_HINT),
        WizardField(end, Input(id="sc-end"), ("end_at",)),
    )


def schedule_fields(kind: ProviderKind) -> list[Widget]:
    if kind is TS:
        return [
            WizardField(
                "API",
                Select(
                    [("v3 campaign (windows, flags)", "v3"), ("v1 upgrade", "v1")],
                    allow_blank=False,
                    id="sc-api",
                ),
                ("options.api",),
            ),
            _times(kind),
            WizardField(
                "Time windows (UTC hours, e.g. 0-6, 20-24; empty = any time)",
                Input(id="sc-windows"),
                ("windows",),
                hint="Each window needs end >= start + 4 h.",
            ),
            Checkbox("Auto-assign a license", id="sc-license"),
            Checkbox("Auto-add devices", id="sc-auto-add"),
        ]
    if kind is OC:
        return [
            WizardField(
                "Execute",
                Select(
                    [
                        ("now", ExecuteType.NOW.value),
                        ("when the device comes online", ExecuteType.DEVICE_ONLINE.value),
                        ("custom window (start/end)", ExecuteType.CUSTOM.value),
                    ],
                    allow_blank=False,
                    id="sc-execute",
                ),
                ("execute_type",),
            ),
            _times(kind),
            WizardField(
                "Retries (1..5; empty = no retry)",
                Input(id="sc-retry-times"),
                ("retry_times", "options.retry"),
            ),
        ]
    if kind is ON:
        return [
            _times(kind),
            _row(
                WizardField(
                    "Retry (0..10)", Input(id="sc-on-retry"), ("options.retry", "retry_times")
                ),
                WizardField("Timeout (5..40 s)", Input(id="sc-on-timeout"), ("options.timeout",)),
            ),
            WizardField(
                "Trigger (trigger_msg)",
                Select(
                    [(label, value) for value, label in TRIGGERS],
                    allow_blank=False,
                    id="sc-on-trigger",
                ),
                ("options.trigger_msg",),
            ),
        ]
    return [
        Static(
            "AOVX sends the OTA command to the terminals at once: there is no schedule or"
            " retry policy to set.",
            classes="intro",
            markup=False,
        )
    ]


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
