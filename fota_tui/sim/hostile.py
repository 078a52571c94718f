"""Hostile text for every field a platform controls (fault ``hostile``).

Platforms send whatever their users typed and whatever is on the wire: markup, ANSI and
OSC escape sequences (an OSC 52 one rewrites the clipboard), C0/C1 controls, NUL, bidi
overrides, a lone surrogate (valid as a JSON escape, unencodable as UTF-8), wide text,
spreadsheet formulas and 10 KB strings. ``poison`` writes them into the fleet.
"""

from __future__ import annotations

from fota_tui.sim.fleet import SimFleet

MARKUP = ("[bold red]x[/]", "[link=http://x]y[/link]", "[@click=app.quit]z[/]")
ESCAPES = ("a\x1b[31mRED", "b\x1b]52;c;ZXZpbA==\x07c", "d\x1b]8;;http://evil\x1b\\e")
CONTROLS = "nul\x00bel\x07bs\x08cr\rlf\nvt\x0b" + "c1\x85\x9b\x9d\x9c" + "del\x7f"
RTL = "\u202eRTL-override\u202c שלום مرحبا"
WIDE = "固件升级🚀📦包"
SURROGATE = "lone\udcffsurrogate"
FORMULAS = ('=HYPERLINK("http://evil","x")', "+1+cmd|' /C calc'!A0", "@SUM(1+1)", "-2+3")
LONG = "L" * 10_240
PAYLOADS = (*MARKUP, *ESCAPES, CONTROLS, RTL, WIDE, SURROGATE, *FORMULAS)
FREE_TEXT = ("descInfo", "orgName", "vehicleNum")  # platform-specific free text (AOVX)
ERROR_TEXT = "[bold red]pane[/] \x1b]52;c;ZXZpbA==\x07 固件 \x9b31m \x1b[2J\x1b]0;pwned\x07"


def poison(fleet: SimFleet, *, surrogates: bool = True, models: bool = False) -> None:
    """Hostile text in device names, firmware and free text, firmware versions and job
    names; in models too with ``models`` (then no firmware fits any device)."""
    payloads = PAYLOADS if surrogates else tuple(p for p in PAYLOADS if p != SURROGATE)
    i = 0
    for kind, devices in fleet.devices.items():
        for device in sorted(devices.values(), key=lambda d: d.device_id):
            device.name = payloads[i % len(payloads)] + (LONG if i % 11 == 0 else "")
            if models:  # by default the model stays: it decides which firmware fits
                device.model = payloads[(i + 3) % len(payloads)]
            device.firmware = payloads[(i + 5) % len(payloads)] + (LONG if i % 13 == 0 else "")
            for n, key in enumerate(k for k in FREE_TEXT if k in device.extra):
                device.extra[key] = payloads[(i + 7 + n) % len(payloads)]
            i += 1
        for fw in fleet.firmware[kind]:
            fw.version = payloads[i % len(payloads)]
            i += 1
        for job in fleet.jobs[kind].values():
            job.name = payloads[i % len(payloads)] + (LONG if i % 7 == 0 else "")
            i += 1
