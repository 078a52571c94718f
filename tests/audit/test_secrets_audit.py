"""Secrets audit: no credential and no platform token is ever written anywhere.

Every provider kind gets distinctive secret values, delivered through ``env:``, ``file:``
and ``cmd:`` references (plus one plaintext profile), in profiles stored with
``fota-tui profiles add``. A loopback simulator accepts exactly those values. Then every
CLI command runs: as a real subprocess when it resolves a secret or reaches a platform,
through ``cli.main`` in this process with its streams captured when it does neither (the
profile files, ``locate``, help, version; see ``_is_local``), several side by side; and
a scripted console session runs in-process. Every output stream, log file (``--debug``
too), journal entry, snapshot cache, exported file and screenshot is searched for the
secret values, the forms a client derives from them (AOVX's MD5, ThingSpace's Basic
credentials) and every token the simulator issued (read from the dialects' token
stores). Zero hits are allowed.

    uv run python -m pytest tests/audit/test_secrets_audit.py -q -s

prints ``secrets audit (...): N values, M files/streams searched, 0 hits``.
"""

from __future__ import annotations

import asyncio
import io
import logging
import re
import signal
import stat
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager, redirect_stderr, redirect_stdout
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from audit_harness import (
    AX,
    OC,
    ON,
    TS,
    AuditSecrets,
    TokenRecorder,
    add_fixed_aovx_token,
    campaign_specs,
    env_for,
    find_hits,
    read_tree,
)

from fota_tui.cli import main
from fota_tui.config.paths import AppPaths, resolve_paths
from fota_tui.config.store import ConfigStore
from fota_tui.sim.clock import ScaledClock
from fota_tui.sim.server import LoopbackServer, Simulator

pytestmark = pytest.mark.loopback

DEVICES = 80
ENV_TS_APP_SECRET = "FOTA_AUDIT_TS_APP_SECRET"
ENV_ONENET_KEY = "FOTA_AUDIT_ONENET_KEY"
ENV_WRONG = "FOTA_AUDIT_WRONG_SECRET"
ENV_UNSET = "FOTA_AUDIT_NEVER_SET"
NAMES = {TS: "ts", OC: "oc", ON: "on", AX: "ax"}
CREATED_RE = re.compile(r"\): created → campaign (\S+)")


@dataclass
class World:
    secrets: AuditSecrets
    simulator: Simulator
    server: LoopbackServer
    tokens: TokenRecorder
    dirs: dict[str, Path]
    inputs: Path
    exports: Path
    env: dict[str, str]
    specs: dict[Any, Path]
    streams: dict[str, str] = field(default_factory=dict)

    def values(self) -> dict[str, str]:
        return self.secrets.values() | self.tokens.values()


def _write_vault(vault: Path, s: AuditSecrets) -> Path:
    """Secret files (0600) and a ``cmd:`` helper that prints one of them by name."""
    vault.mkdir(mode=0o700)
    for name, value in {
        "ts-password": s.ts_password,
        "oc-secret": s.oc_secret,
        "aovx-password": s.aovx_password,
        "aovx-token": s.aovx_token,
    }.items():
        path = vault / name
        path.write_text(value + "\n", encoding="utf-8")
        path.chmod(0o600)
    helper = vault / "get-secret"
    helper.write_text(
        "#!/bin/sh\n# prints one secret of the vault; fails for an unknown name\n"
        'exec cat "$(dirname "$0")/$1"\n',
        encoding="utf-8",
    )
    helper.chmod(stat.S_IRWXU)
    return helper


def _profiles(world_root: str, vault: Path, helper: Path, s: AuditSecrets, inputs: Path) -> None:
    """audit (all good), broken (down, wrong, unset, failing cmd), plain (+ an invalid one)."""
    url = {kind: f"{world_root}/{kind.value}" for kind in NAMES}
    (inputs / "audit.toml").write_text(
        textwrap.dedent(
            f"""\
            label = "Secrets audit"
            environment = "lab"
            refresh_interval = 5

            [[providers]]
            kind = "thingspace"
            name = "ts"
            base_url = "{url[TS]}"
            account = "0000123456-00001"
            app_key = "{s.ts_app_key}"
            app_secret = "env:{ENV_TS_APP_SECRET}"
            username = "{s.ts_user}"
            password = "file:{vault / "ts-password"}"

            [[providers]]
            kind = "oceanconnect"
            name = "oc"
            base_url = "{url[OC]}"
            app_id = "{s.oc_app}"
            secret = "cmd:{helper} oc-secret"

            [[providers]]
            kind = "onenet"
            name = "on"
            base_url = "{url[ON]}"
            api_key = "env:{ENV_ONENET_KEY}"

            [[providers]]
            kind = "aovx"
            name = "ax"
            base_url = "{url[AX]}"
            username = "{s.aovx_user}"
            password = "cmd:{helper} aovx-password"

            [[providers]]
            kind = "aovx"
            name = "ax-token"
            base_url = "{url[AX]}"
            token = "file:{vault / "aovx-token"}"
            """
        ),
        encoding="utf-8",
    )
    (inputs / "broken.toml").write_text(
        textwrap.dedent(
            f"""\
            environment = "lab"

            [[providers]]
            kind = "thingspace"
            name = "ts-down"
            base_url = "http://127.0.0.1:{_closed_port()}/thingspace"
            timeout = 3
            account = "0000123456-00001"
            app_key = "{s.ts_app_key}"
            app_secret = "env:{ENV_TS_APP_SECRET}"
            username = "{s.ts_user}"
            password = "file:{vault / "ts-password"}"

            [[providers]]
            kind = "oceanconnect"
            name = "oc-wrong"
            base_url = "{url[OC]}"
            app_id = "{s.oc_app}"
            secret = "env:{ENV_WRONG}"

            [[providers]]
            kind = "onenet"
            name = "on-unset"
            base_url = "{url[ON]}"
            api_key = "env:{ENV_UNSET}"

            [[providers]]
            kind = "aovx"
            name = "ax-badcmd"
            base_url = "{url[AX]}"
            username = "{s.aovx_user}"
            password = "cmd:{helper} no-such-secret"
            """
        ),
        encoding="utf-8",
    )
    plain = textwrap.dedent(
        f"""\
        environment = "lab"

        [[providers]]
        kind = "onenet"
        name = "on-plain"
        base_url = "{url[ON]}"
        api_key = "{s.plaintext_key}"
        """
    )
    (inputs / "plain.toml").write_text(plain, encoding="utf-8")
    # Invalid: the wrong type for the secret itself and for another field.
    invalid = plain.replace(f'"{s.plaintext_key}"', f'["{s.plaintext_key}"]') + "timeout = 0\n"
    (inputs / "plain-invalid.toml").write_text(invalid, encoding="utf-8")


def _closed_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def world(tmp_path: Path, isolated_dirs: dict[str, Path]) -> Iterator[World]:
    s = AuditSecrets()
    simulator = Simulator.build(
        devices=DEVICES, clock=ScaledClock(1.0), credentials=s.credentials()
    )
    tokens = TokenRecorder(simulator)
    add_fixed_aovx_token(simulator, s.aovx_token)
    server = simulator.serve()
    inputs, exports = tmp_path / "inputs", tmp_path / "exports"
    inputs.mkdir()
    exports.mkdir()
    vault = tmp_path / "vault"
    helper = _write_vault(vault, s)
    _profiles(server.root, vault, helper, s, inputs)
    specs = campaign_specs(simulator, NAMES, inputs)
    env = env_for(
        isolated_dirs,
        {
            ENV_TS_APP_SECRET: s.ts_app_secret,
            ENV_ONENET_KEY: s.onenet_key,
            ENV_WRONG: s.wrong_secret,
        },
    )
    try:
        yield World(s, simulator, server, tokens, isolated_dirs, inputs, exports, env, specs)
    finally:
        server.close()


# -- the search ----------------------------------------------------------------------


def _searched(world: World) -> dict[str, str | bytes]:
    texts: dict[str, str | bytes] = dict(world.streams)
    texts.update(read_tree(*world.dirs.values(), world.exports))
    return texts


def _audit(world: World, what: str) -> None:
    values = world.values()
    texts = _searched(world)
    hits = find_hits(values, texts)
    # The plaintext profile holds its secret by the user's choice (and `add` warned).
    stored_plain = str(world.dirs["config"] / "profiles" / "plain.toml")
    expected = [h for h in hits if h.where == stored_plain and h.value_label == "plaintext api_key"]
    hits = [h for h in hits if h not in expected]
    print(
        f"\nsecrets audit ({what}): {len(values)} values, {len(texts)} files/streams searched,"
        f" {len(hits)} hits"
    )
    assert not hits, "secret values written:\n" + "\n".join(
        f"  {h.value_label} in {h.where}: …{h.context}…" for h in hits
    )


def test_search_finds_what_it_looks_for(tmp_path: Path) -> None:
    """The search itself: a planted value is found in a file and in a stream."""
    planted = tmp_path / "logs" / "x.log"
    planted.parent.mkdir()
    planted.write_bytes(b"\x00binary\xff before S3CRET-x-0011 after")
    hits = find_hits(
        {"x": "S3CRET-x-0011", "y": "absent"},
        {**read_tree(tmp_path), "stdout": "no", "stderr": "…S3CRET-x-0011"},
    )
    assert sorted((h.value_label, h.where) for h in hits) == [
        ("x", str(planted)),
        ("x", "stderr"),
    ]


@pytest.mark.parametrize("kind", [TS, OC, ON, AX], ids=lambda k: k.value)
async def test_simulator_accepts_exactly_the_credentials_it_is_given(kind: Any) -> None:
    """``Simulator.build(credentials=...)``: the given values work, the demo ones do not,
    and the platform's own dialect class keeps its demo credentials."""
    from fota_tui.config.schema import PROVIDER_CONFIG_CLASSES
    from fota_tui.errors import ProviderAuthError, ProviderError
    from fota_tui.providers.registry import build_client
    from fota_tui.services.snapshot import fetch_snapshot
    from fota_tui.sim.dialects import dialect_class

    s = AuditSecrets()
    simulator = Simulator.build(devices=12, kinds=[kind], credentials=s.credentials())
    dialect = simulator.dialects[kind]
    demo = dict(dialect_class(kind).credentials)
    assert dialect.credentials == demo | s.credentials()[kind]
    assert isinstance(dialect, dialect_class(kind))
    url = simulator.base_urls()[kind]

    async def fetch(credentials: dict[str, str]) -> Any:
        cfg = PROVIDER_CONFIG_CLASSES[kind](kind=kind, name="p", base_url=url, **credentials)
        client = build_client(cfg, transport=simulator.transport())
        try:
            return await fetch_snapshot(client)
        finally:
            await client.aclose()

    assert (await fetch(dialect.credentials)).devices
    with pytest.raises(ProviderError) as refused:
        await fetch(demo)
    assert isinstance(refused.value, ProviderAuthError) or "auth" in str(refused.value).lower()
    with pytest.raises(ValueError, match="unknown key"):
        dialect_class(kind).with_credentials({"pasword": "typo"})


# -- the CLI -------------------------------------------------------------------------

Command = tuple[str, Sequence[str], "int | tuple[int, ...] | None"]


def _run(world: World, name: str, argv: Sequence[str], expect: int | tuple[int, ...] | None) -> str:
    """One command: a real ``python -m fota_tui`` process, or ``cli.main`` in this process
    for the few that never hold a secret value (``_is_local``)."""
    started = time.monotonic()
    if _is_local(argv):
        returncode, stdout, stderr = _run_here(world, name, argv)
    else:
        result = subprocess.run(
            [sys.executable, "-m", "fota_tui", *argv],
            env=world.env,
            capture_output=True,
            text=True,
            stdin=subprocess.DEVNULL,
            timeout=120,
            check=False,
        )
        returncode, stdout, stderr = result.returncode, result.stdout, result.stderr
    world.streams[f"{name}: stdout"] = stdout
    world.streams[f"{name}: stderr"] = stderr
    assert "Traceback" not in stdout + stderr, (name, stderr)
    if expect is not None:
        allowed = expect if isinstance(expect, tuple) else (expect,)
        assert returncode in allowed, (
            f"{name}: exit {returncode} after {time.monotonic() - started:.1f}s\n"
            f"{stdout[-2000:]}\n{stderr[-2000:]}"
        )
    return stdout


def _is_local(argv: Sequence[str]) -> bool:
    """Commands that resolve no secret, reach no platform and start no process: the
    profile files (list, show references, add, default, remove), ``locate``, help and
    version. Every other command resolves secrets (``env:``, ``file:``, ``cmd:``) or
    talks to a platform, and runs as a real process: a fresh redaction registry, the
    ``cmd:`` helper's own stderr on the command's, and whatever the interpreter writes
    on its way out all belong to what is searched."""
    args = [a for a in argv if a != "--debug"]
    if args in (["--help"], ["--version"], ["sim", "--help"], ["locate"], ["locate", "log"]):
        return True
    return args[:1] == ["profiles"] and args[1:2] in (
        ["list"],
        ["show"],
        ["add"],
        ["default"],
        ["remove"],
    )


_HERE = threading.Lock()  # one in-process command at a time: sys.stdout is one


def _run_here(world: World, name: str, argv: Sequence[str]) -> tuple[int, str, str]:
    """``cli.main(argv)`` with this process's streams captured and its logging restored
    after. The same ``main`` a process runs (``python -m fota_tui`` is only
    ``sys.exit(main())``), with the same environment (the test's isolated dirs), writing
    the same log file; ``_is_local`` says why nothing is lost."""
    from fota_tui.logs import redact

    out, err = io.StringIO(), io.StringIO()
    with _HERE, _logging_restored(), redirect_stdout(out), redirect_stderr(err):
        returncode = main(list(argv))
    # The log's redaction only knows the values a process resolved: in this process it
    # must know none of the audit's, or it could hide one written to the log.
    known = [label for label, value in world.values().items() if redact(value) != value]
    assert not known, f"{name} resolved {known}: it must run as a process"
    return returncode, out.getvalue(), err.getvalue()


@contextmanager
def _logging_restored() -> Iterator[None]:
    """``main`` sets up the log file on the root logger: undo it after each command."""
    root = logging.getLogger()
    handlers = list(root.handlers)
    levels = {name: logging.getLogger(name).level for name in ("", "httpx", "httpcore", "asyncio")}
    try:
        yield
    finally:
        for handler in [h for h in root.handlers if h not in handlers]:
            root.removeHandler(handler)
            handler.close()
        for name, level in levels.items():
            logging.getLogger(name).setLevel(level)


def _run_lanes(
    world: World, lanes: Sequence[Sequence[Command]], *beside: Callable[[], None]
) -> dict[str, str]:
    """Each lane runs in order; the lanes (and ``beside``) run side by side. Returns
    stdout by command name."""

    def lane(commands: Sequence[Command]) -> dict[str, str]:
        return {name: _run(world, name, argv, rc) for name, argv, rc in commands}

    outputs: dict[str, str] = {}
    with ThreadPoolExecutor(max_workers=len(lanes) + len(beside)) as pool:
        others = [pool.submit(job) for job in beside]
        for result in pool.map(lane, lanes):
            outputs.update(result)
        for other in others:
            other.result()
    return outputs


LANES = 4  # besides OceanConnect's: a command's process start is CPU, its HTTP is waiting


def _oc_lane(world: World, commands: Sequence[Command]) -> list[list[Command]]:
    """Commands that log in to the audit OceanConnect app in one lane, the rest in
    ``LANES`` more (dealt in turn, so neighbours of the same cost are spread).

    OceanConnect keeps one valid token per app: a second client's login makes the first
    one's token invalid (see ``test_two_clients_sharing_an_oceanconnect_app``).
    """
    oc_spec = str(world.specs[OC])
    logs_in = [c for c in commands if _uses_audit_oc(c[1], oc_spec)]
    rest = [c for c in commands if not _uses_audit_oc(c[1], oc_spec)]
    return [lane for lane in [logs_in, *(rest[i::LANES] for i in range(LANES))] if lane]


def _uses_audit_oc(argv: Sequence[str], oc_spec: str) -> bool:
    args = [a for a in argv if a != "--debug"]
    if not args or args[0] not in ("status", "campaign") or "--help" in args:
        return False
    if "--profile" in args:
        return args[args.index("--profile") + 1] == "audit"
    if "--provider" in args:
        return args[args.index("--provider") + 1] == "oc"
    if args[0] == "campaign" and args[1] in ("plan", "apply"):
        return oc_spec in args  # a spec reads (and applies to) its own platform
    return not (args[0] == "campaign" and args[1] == "journal")


def _serve_sim_briefly(world: World) -> None:
    """``fota-tui sim`` itself: start, wait for its banner, stop with SIGTERM."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "fota_tui", "sim", "--port", "0", "--devices", "20"],
        env=world.env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    out: list[str] = []
    assert proc.stdout is not None
    for line in proc.stdout:
        out.append(line)
        if "Ctrl+C stops it." in line:
            break
    proc.send_signal(signal.SIGTERM)  # right after the banner: a clean stop all the same
    rest, err = proc.communicate(timeout=30)
    world.streams["sim: stdout"] = "".join(out) + rest
    world.streams["sim: stderr"] = err
    assert proc.returncode == 0 and "fota-tui simulator on http://127.0.0.1:" in out[0]
    assert "simulator stopped" in err


def test_every_cli_command_keeps_secrets_and_tokens_out(world: World) -> None:
    inputs, specs = world.inputs, world.specs
    first: list[Command] = [
        ("profiles list (none)", ["profiles", "list"], 0),
        # The first profile added becomes the default: audit, before any other.
        ("profiles add audit", ["profiles", "add", "audit", "--from", str(inputs / "audit.toml")], 0),
    ]  # fmt: skip
    for command in first:
        _run(world, *command)
    _run_lanes(
        world,
        [
            [("profiles add broken",
              ["profiles", "add", "broken", "--from", str(inputs / "broken.toml")], 0)],
            [("profiles add plain-invalid",  # refused as invalid (plain does not exist yet)
              ["profiles", "add", "plain", "--from", str(inputs / "plain-invalid.toml")], 2),
             ("profiles add plain",
              ["profiles", "add", "plain", "--from", str(inputs / "plain.toml")], 0)],
            [("profiles add audit again",
              ["profiles", "add", "audit", "--from", str(inputs / "audit.toml")], 2)],
        ],
    )  # fmt: skip

    read_only: list[Command] = [
        ("profiles list", ["profiles", "list"], 0),
        ("profiles show audit", ["profiles", "show", "audit"], 0),
        ("profiles show broken", ["profiles", "show", "broken"], 0),
        ("profiles show plain", ["profiles", "show", "plain"], 0),
        ("profiles check", ["profiles", "check"], 2),
        ("profiles check audit", ["profiles", "check", "audit"], 0),
        ("--debug profiles check broken", ["--debug", "profiles", "check", "broken"], 2),
        ("locate", ["locate"], 0),
        ("locate log", ["locate", "log"], 0),
        ("status", ["status"], 0),
        ("status json", ["status", "--format", "json"], 0),
        ("status csv", ["status", "--format", "csv"], 0),
        ("status failed", ["status", "--state", "failed", "--provider", "ts"], 0),
        ("--debug status json", ["--debug", "status", "--format", "json"], 0),
        ("status broken", ["status", "--profile", "broken"], (1, 2)),
        ("status broken json", ["status", "--profile", "broken", "--format", "json"], (1, 2)),
        ("status broken csv", ["status", "--profile", "broken", "--format", "csv"], (1, 2)),
        ("--debug status broken", ["--debug", "status", "--profile", "broken"], (1, 2)),
        ("status plain", ["status", "--profile", "plain"], 1),
        ("status unknown provider", ["status", "--provider", "nope"], 2),
        *[
            (f"campaign plan {kind.value}", ["campaign", "plan", str(path)], 0)
            for kind, path in specs.items()
        ],
        ("campaign plan --json", ["campaign", "plan", "--json", str(specs[OC])], 0),
        ("campaign list broken", ["campaign", "list", "--profile", "broken"], (1, 2)),
        ("sim --help", ["sim", "--help"], 0),
        ("--help", ["--help"], 0),
        ("--version", ["--version"], 0),
    ]
    _run_lanes(world, _oc_lane(world, read_only), lambda: _serve_sim_briefly(world))

    applied = _run_lanes(  # one lane per platform: only one of them logs in to oc
        world,
        [
            [
                (
                    f"campaign apply {kind.value}",
                    [*(["--debug"] if kind is ON else []), "campaign", "apply", "--yes", str(path)],
                    0,
                )
            ]
            for kind, path in specs.items()
        ],
    )
    created = {kind: CREATED_RE.findall(applied[f"campaign apply {kind.value}"]) for kind in specs}
    assert all(created.values()), created
    ts_campaign, oc_campaign = created[TS][0], created[OC][0]

    lanes = _oc_lane(
        world,
        [
            ("campaign list", ["campaign", "list"], 0),
            ("--debug campaign list", ["--debug", "campaign", "list"], 0),
            ("campaign journal", ["campaign", "journal"], 0),
            ("campaign show ts", ["campaign", "show", ts_campaign], 0),
            ("campaign show oc", ["campaign", "show", oc_campaign, "--provider", "oc", "--all"], 0),
        ],
    )
    removal: list[Command] = [  # plain is not the default: nothing else here reads it
        ("profiles remove plain", ["profiles", "remove", "plain"], 0),
        ("profiles list after remove", ["profiles", "list"], 0),
    ]
    _run_lanes(world, [*lanes, removal])
    for command in [  # after the shows; the default profile changes last
        ("campaign cancel ts", ["campaign", "cancel", "--yes", ts_campaign, "--provider", "ts"], 0),
        ("campaign journal after cancel", ["campaign", "journal"], 0),
        ("profiles default broken", ["profiles", "default", "broken"], 0),
        ("profiles default audit", ["profiles", "default", "audit"], 0),
    ]:
        _run(world, *command)

    # The run did what it claims: every kind authenticated and tokens were issued.
    assert world.tokens.sources() >= {
        "thingspace oauth",
        "thingspace session",
        "oceanconnect accessToken",
        "oceanconnect refreshToken",
        "aovx tokenId",
    }
    assert list((world.dirs["data"] / "journal" / "audit").glob("*.json"))
    log_text = (world.dirs["log"] / "fota-tui.log").read_text(encoding="utf-8")
    assert "DEBUG" in log_text and "HTTP Request" in log_text  # --debug detail was logged
    _audit(world, "cli")


# -- the console ---------------------------------------------------------------------


async def _settle(pilot: Any, app: Any, timeout: float = 60.0) -> None:
    """Until no provider is waiting or refreshing (real loopback HTTP: wall time)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        await pilot.pause()
        views = app.session.provider_views()
        if not any(v.refreshing or (v.health == "unknown" and not v.build_error) for v in views):
            await app.workers.wait_for_complete()
            await pilot.pause()
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"providers did not settle: {app.session.provider_views()}")


async def _until(pilot: Any, predicate: Any, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting for the console")
        await pilot.pause()
        await asyncio.sleep(0.02)


@contextmanager
def _debug_logging(log_dir: Path) -> Iterator[Path]:
    """The console's log file at --debug level, as ``fota-tui --debug`` sets it up."""
    from fota_tui.logs import setup_logging

    root = logging.getLogger()
    levels = {name: logging.getLogger(name).level for name in ("", "httpx", "httpcore", "asyncio")}
    path = setup_logging(log_dir, debug=True)
    try:
        yield path
    finally:
        for handler in [h for h in root.handlers if getattr(h, "baseFilename", None) == str(path)]:
            root.removeHandler(handler)
            handler.close()
        for name, level in levels.items():
            logging.getLogger(name).setLevel(level)


async def test_console_session_keeps_secrets_and_tokens_out(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    from textual.widgets import Input

    from fota_tui.services.campaigns import load_spec_file
    from fota_tui.tui.app import make_app
    from fota_tui.tui.screens.campaigns import CampaignDetailScreen, CampaignsScreen
    from fota_tui.tui.screens.dashboard import DashboardScreen
    from fota_tui.tui.screens.device_detail import DeviceDetailScreen
    from fota_tui.tui.screens.help import HelpScreen
    from fota_tui.tui.screens.prompt import ExportPrompt
    from fota_tui.tui.screens.wizard import CampaignWizardScreen, open_wizard

    for name in (ENV_TS_APP_SECRET, ENV_ONENET_KEY, ENV_WRONG):
        monkeypatch.setenv(name, world.env[name])
    for name in ("audit", "broken"):
        assert main(["profiles", "add", name, "--from", str(world.inputs / f"{name}.toml")]) == 0
    paths: AppPaths = resolve_paths()
    shots = world.exports / "screenshots"
    shots.mkdir()
    app = make_app(ConfigStore(paths).load_profile("audit"), paths=paths)
    app.animation_level = "none"

    def shoot(name: str) -> None:
        world.streams[f"screen: {name}"] = app.export_screenshot(title=name)
        app.save_screenshot(f"{name}.svg", str(shots))

    async def export(path: Path) -> None:
        await pilot.press("e")
        await _until(pilot, lambda: isinstance(app.screen, ExportPrompt))
        app.screen.query_one(Input).value = str(path)
        await pilot.press("enter")
        await _until(pilot, path.exists)

    with _debug_logging(world.dirs["log"]) as debug_log:
        async with app.run_test(size=(120, 40)) as pilot:
            await _settle(pilot, app)
            dashboard = app.screen
            assert isinstance(dashboard, DashboardScreen)
            assert {v.name: v.health for v in app.session.provider_views()} == dict.fromkeys(
                ["ax", "ax-token", "oc", "on", "ts"], "ok"
            )
            shoot("dashboard")

            await pilot.press("slash")
            dashboard.panel.filter_input.value = "state:failed,succeeded"
            await pilot.press("enter")
            await export(world.exports / "view.csv")
            await export(world.exports / "view.json")
            shoot("filter")
            await pilot.press("space", "y")  # select and copy an id
            world.streams["clipboard"] = app.clipboard

            await pilot.press("enter")
            assert isinstance(app.screen, DeviceDetailScreen)
            await app.workers.wait_for_complete()
            await pilot.pause()
            shoot("device-detail")
            await pilot.press("escape", "escape")

            await pilot.press("c")
            assert isinstance(app.screen, CampaignsScreen)
            shoot("campaigns")
            await pilot.press("enter")
            assert isinstance(app.screen, CampaignDetailScreen)
            await app.workers.wait_for_complete()
            await pilot.pause()
            await export(world.exports / "campaign.json")
            shoot("campaign-detail")
            await pilot.press("question_mark")
            assert isinstance(app.screen, HelpScreen)
            shoot("help")
            await pilot.press("escape", "d")

            # Errors: a failing platform, then every token thrown away (fresh logins).
            world.simulator.faults.set(OC, error=1.0)
            await pilot.press("r")
            await _settle(pilot, app)
            await _until(
                pilot, lambda: any(t == "Provider failing" for t, _ in app.notifications_sent)
            )
            shoot("provider-failing")
            world.simulator.faults.clear(OC)
            for dialect in world.simulator.dialects.values():
                dialect.expire_tokens()
            issued = len(world.tokens.issued)
            await pilot.press("r")
            await _settle(pilot, app)
            assert len(world.tokens.issued) > issued  # logged in again, new tokens

            # The wizard up to its preview (the dry run shows the exact requests).
            spec = load_spec_file(world.specs[TS]).spec
            wizard = open_wizard(app, spec=spec)
            assert isinstance(wizard, CampaignWizardScreen)
            await pilot.pause()
            for _ in range(10):
                if wizard.step == "review" and wizard.preview is not None:
                    break
                await pilot.press("ctrl+n")
                await app.workers.wait_for_complete()
                await pilot.pause()
            assert wizard.step == "review" and wizard.preview is not None and wizard.preview.ok, (
                wizard.step,
                wizard.loading_firmware,
                wizard.built and wizard.built.problems,
                wizard.catalogue_errors,
                wizard.unavailable,
            )
            shoot("wizard-preview")
            await pilot.press("escape")
            await pilot.press("escape", "escape", "escape", "escape")

            # A profile whose providers are down, refused or misconfigured.
            await app.switch_profile("broken").wait()
            await _settle(pilot, app)
            views = {v.name: v for v in app.session.provider_views()}
            assert views["on-unset"].build_error and ENV_UNSET in views["on-unset"].build_error
            assert views["ts-down"].health == "failing" and views["oc-wrong"].health == "failing"
            shoot("broken-profile")
            await app.session.stop()  # saves the snapshot cache

    world.streams["notifications"] = "\n".join(f"{t}: {m}" for t, m in app.notifications_sent)
    assert list((world.dirs["cache"] / "snapshots").glob("*.json"))
    assert debug_log.read_text(encoding="utf-8").count("DEBUG") > 10
    assert {p.suffix for p in shots.iterdir()} == {".svg"}
    _audit(world, "console")


# -- failures the audit runs ran into (regression tests) ---------------------------------


async def test_two_clients_sharing_an_oceanconnect_app() -> None:
    """OceanConnect keeps one valid token per app: when a second fota-tui (a `status` next
    to the console) logs in, the first one's next call gets 403 1010005 and must log in
    again, not crash."""
    from fota_tui.config.schema import OceanConnectConfig
    from fota_tui.providers.registry import build_client
    from fota_tui.services.snapshot import fetch_snapshot

    s = AuditSecrets()
    simulator = Simulator.build(devices=30, kinds=[OC], credentials=s.credentials())
    with simulator.serve() as server:
        cfg = OceanConnectConfig(
            name="oc", base_url=server.base_urls()[OC], app_id=s.oc_app, secret=s.oc_secret
        )
        first, second = build_client(cfg), build_client(cfg)
        try:
            await fetch_snapshot(first)
            await fetch_snapshot(second)  # a new login: the first client's token is void
            snapshot = await fetch_snapshot(first)
        finally:
            await first.aclose()
            await second.aclose()
    assert snapshot.devices


async def test_oceanconnect_throttling_over_http_is_a_rate_limit() -> None:
    from fota_tui.config.schema import OceanConnectConfig
    from fota_tui.errors import ProviderError
    from fota_tui.providers.registry import build_client
    from fota_tui.services.snapshot import fetch_snapshot

    s = AuditSecrets()
    simulator = Simulator.build(devices=30, kinds=[OC], credentials=s.credentials())
    simulator.dialects[OC].rate_limit = 1  # type: ignore[attr-defined]
    with simulator.serve() as server:
        cfg = OceanConnectConfig(
            name="oc", base_url=server.base_urls()[OC], app_id=s.oc_app, secret=s.oc_secret
        )
        client = build_client(cfg)
        try:
            with pytest.raises(ProviderError) as caught:
                await fetch_snapshot(client)
        finally:
            await client.aclose()
    assert caught.value.title


async def test_age_clock_tick_right_after_a_push() -> None:
    """Found by these audits (the console exited with NoMatches now and then): the age
    clock must not tick a screen that is pushed but not composed yet."""
    from textual.css.query import NoMatches

    from fota_tui.sim.clock import ManualClock
    from fota_tui.sim.demo import build_demo
    from fota_tui.tui.app import make_app
    from fota_tui.tui.screens.campaigns import CampaignsScreen

    clock = ManualClock()
    demo = build_demo(devices=40, clock=clock)
    app = make_app(demo.profile, transport=demo.transport, clock=clock, demo=demo)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        app.push_screen(CampaignsScreen())
        errors = []
        for _ in range(20):  # the clock may fire on any of the next loop turns
            try:
                app._tick()
            except NoMatches as exc:
                errors.append(exc)
            await asyncio.sleep(0)
        assert not errors
        assert app.is_running
