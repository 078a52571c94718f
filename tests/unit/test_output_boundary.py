"""Every path from platform text to a terminal, a log, the clipboard or a file goes
through the one boundary in ``fota_tui/text.py``. The static checks fail when a new
output path appears that does not; the behavioural ones prove each known path."""

from __future__ import annotations

import ast
import io
import logging
import sys
from pathlib import Path

import pytest

from fota_tui import cli
from fota_tui.errors import ProviderUnavailable
from fota_tui.logs import setup_logging
from fota_tui.text import SafeStream, clean, clipboard_text, json_text, sanitize

PACKAGE = Path(cli.__file__).parent
HOSTILE = "a\x1b]52;c;ZXZpbA==\x07b\x1b[2J\x9b31m\u202eevil\udcff\x00end"

# The modules allowed to write files, and what each writes (all through ``clean`` or
# ``json.dumps(ensure_ascii=True)``, or our own TOML).
FILE_WRITERS = {
    "config/store.py": "profiles and config (our TOML), via atomic_write_text",
    "services/export.py": "exports: every cell through clean()",
    "services/snapshot_cache.py": "the cache: json.dumps(ensure_ascii=True)",
    "services/campaigns/journal.py": "the journal: entry_json (ensure_ascii)",
    "services/rollouts/record.py": "rollouts: json.dumps(ensure_ascii=True)",
    "commands/sim.py": "a demo profile (our TOML)",
}
# Printing is the CLI's (sys.stdout/stderr are SafeStreams inside ``cli.main``).
PRINTERS = ("cli.py", "commands/", "logs.py", "tui/app.py")  # app.py: run_console, from main
WRITE_CALLS = {"atomic_write_text", "write_text", "write_bytes", "fdopen"}


def modules() -> list[tuple[str, ast.Module]]:
    out = []
    for path in sorted(PACKAGE.rglob("*.py")):
        rel = path.relative_to(PACKAGE).as_posix()
        out.append((rel, ast.parse(path.read_text(encoding="utf-8"))))
    return out


def call_name(node: ast.Call) -> str:
    func = node.func
    if isinstance(func, ast.Attribute):
        return func.attr
    return func.id if isinstance(func, ast.Name) else ""


def test_no_output_path_bypasses_the_boundary() -> None:
    problems = []
    for rel, tree in modules():
        for node in ast.walk(tree):
            if isinstance(node, ast.Attribute) and node.attr in ("__stdout__", "__stderr__"):
                problems.append(f"{rel}:{node.lineno}: sys.{node.attr} skips the CLI's SafeStream")
            if isinstance(node, ast.Constant) and node.value == "/dev/tty":
                problems.append(f"{rel}:{node.lineno}: writes to /dev/tty")
            if not isinstance(node, ast.Call):
                continue
            name = call_name(node)
            if name == "copy_to_clipboard" and rel != "tui/clipboard.py":
                problems.append(f"{rel}:{node.lineno}: copy outside tui/clipboard.py")
            if name == "write" and isinstance(node.func, ast.Attribute):
                target = ast.unparse(node.func.value)
                if target in ("os", "sys.stdout", "sys.stderr") and not rel.startswith(PRINTERS):
                    problems.append(f"{rel}:{node.lineno}: {target}.write outside the CLI")
            printing = name == "print" and isinstance(node.func, ast.Name)
            if printing and not rel.startswith(PRINTERS):
                problems.append(f"{rel}:{node.lineno}: print outside the CLI")
            if name in WRITE_CALLS and rel not in FILE_WRITERS:
                problems.append(f"{rel}:{node.lineno}: {name} writes a file; add it to"
                                " FILE_WRITERS once it writes through the boundary")  # fmt: skip
    assert not problems, "\n".join(problems)


def test_the_static_check_sees_what_it_looks_for(tmp_path: Path) -> None:
    tree = ast.parse("import sys\nsys.__stdout__.write('x')\napp.copy_to_clipboard(x)\nprint(1)")
    names = {call_name(n) for n in ast.walk(tree) if isinstance(n, ast.Call)}
    assert {"copy_to_clipboard", "print", "write"} <= names


def assert_safe(text: str, where: str) -> None:
    bad = [f"U+{ord(c):04X}" for c in text if ord(c) in (0x1B, 0x07, 0x00, 0x9B, 0x202E)]
    assert not bad, f"{where}: {bad}"
    assert not any(0xD800 <= ord(c) < 0xE000 for c in text), f"{where}: a lone surrogate"
    text.encode("utf-8")


def test_each_helper_shows_and_never_obeys() -> None:
    for where, text in (
        ("clean", clean(HOSTILE)),
        ("clean multiline", clean(HOSTILE + "\n", keep_newlines=True)),
        ("sanitize", sanitize(HOSTILE)),
        ("json_text", json_text({"x": HOSTILE})),
    ):
        assert_safe(text, where)
    assert clipboard_text(["ok", HOSTILE, "a\nb"]) == ("ok", 2)


def test_safe_stream_cleans_and_never_fails_to_encode() -> None:
    raw = io.BytesIO()
    inner = io.TextIOWrapper(raw, encoding="ascii")
    stream = SafeStream(inner)
    print(HOSTILE, "水表", file=stream)
    stream.flush()
    written = raw.getvalue().decode("ascii")
    assert "\x1b" not in written and "\\u241b" in written and written.endswith("\n")


def test_the_cli_error_line_is_cleaned(monkeypatch, capsys) -> None:
    def explode(args: object) -> int:
        raise ProviderUnavailable("ts", HOSTILE)

    monkeypatch.setattr(cli, "_run_console", explode)
    code = cli.main(["--config-dir", str(Path(sys.prefix) / "nonexistent-fota")])
    out = capsys.readouterr()
    assert code == 1
    assert_safe(out.err, "stderr")
    assert "evil" in out.err and "␛]52" in out.err
    assert sys.stdout is capsys._capture.out.tmpfile or not isinstance(sys.stdout, SafeStream)  # type: ignore[union-attr]


def test_the_log_file_gets_one_clean_line_per_record(tmp_path: Path) -> None:
    path = setup_logging(tmp_path)
    root = logging.getLogger()
    # The test runner's own capture would carry the raw record (a lone surrogate) into
    # its report: only our handler sees this one.
    others = [h for h in root.handlers if getattr(h, "baseFilename", "") != str(path)]
    try:
        for handler in others:
            root.removeHandler(handler)
        logging.getLogger("fota_tui.test").warning("platform said %s\nforged line", HOSTILE)
        for handler in logging.getLogger().handlers:
            handler.flush()
    finally:
        for handler in list(root.handlers):
            if getattr(handler, "baseFilename", "") == str(path):
                root.removeHandler(handler)
                handler.close()
        for handler in others:
            root.addHandler(handler)
    text = path.read_text(encoding="utf-8")
    assert_safe(text, "log file")
    assert text.count("\n") == 1 and "forged line" in text


@pytest.mark.parametrize("value", ["id\udcff", "\udc80"], ids=["trailing", "alone"])
def test_journal_and_cache_write_unencodable_text(tmp_path: Path, value: str) -> None:
    from datetime import UTC, datetime

    from fota_tui.models import CampaignSpec, ProviderKind
    from fota_tui.services.campaigns.journal import Journal

    journal = Journal(tmp_path, "p")
    now = datetime(2026, 12, 1, tzinfo=UTC)
    spec = CampaignSpec(provider="ts", firmware="fw", devices=["d1"])
    entry = journal.begin(provider="ts", kind=ProviderKind.THINGSPACE, spec=spec, now=now)
    entry = journal.update(entry, now=now, state="created", campaign_ids=[value], note=value)
    (read,) = journal.entries()
    assert read.campaign_ids == [value] and read.state == "created"


def test_the_snapshot_cache_keeps_a_lone_surrogate(tmp_path: Path) -> None:
    from datetime import UTC, datetime

    from fota_tui.models import AuthState, Device, ProviderHealth, ProviderKind
    from fota_tui.services.snapshot import ProviderSnapshot
    from fota_tui.services.snapshot_cache import SnapshotCache

    now = datetime(2026, 12, 1, tzinfo=UTC)
    kind = ProviderKind.AOVX
    health = ProviderHealth(provider="ax", kind=kind, ok=True, checked_at=now, auth=AuthState.OK)
    device = Device(provider="ax", kind=kind, device_id="d1", model="M\udcff1")
    snapshot = ProviderSnapshot(
        provider="ax", kind=kind, fetched_at=now, health=health, devices=(device,)
    )
    cache = SnapshotCache(tmp_path, "p")
    cache.save({"ax": snapshot})  # before: UnicodeEncodeError, and the console crashed on quit
    loaded = cache.load()
    assert loaded is not None and loaded[1]["ax"].devices[0].model == "M\udcff1"
