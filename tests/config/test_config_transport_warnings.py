"""Transport safety end to end: TLS verification is on by default in every adapter (a
self-signed loopback server is refused), ``verify_tls = false`` really turns it off, and
``fota-tui status`` / ``profiles show`` print the insecure-transport warning.

The unit cases of ``insecure_transport_warnings`` (each loopback spelling, http off
loopback) are in test_config_schema.py; ``profiles show`` with http + verify off together
is in tests/cli/test_cli_profiles.py. Only loopback is contacted.
"""

from __future__ import annotations

import dataclasses
import json
import shutil
import socket
import ssl
import subprocess
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from fota_tui.cli import main
from fota_tui.config.schema import PROVIDER_CONFIG_CLASSES, insecure_transport_warnings
from fota_tui.models import ProviderKind
from fota_tui.providers import registry
from fota_tui.services import status_report
from fota_tui.services.workspace import Workspace
from fota_tui.sim.dialects.onenet.dialect import OneNetDialect
from fota_tui.sim.server import Simulator

ONENET_OK = json.dumps({"errno": 0, "error": "succ", "data": {"total_count": 0, "devices": []}})

# Minimal provider tables (secrets by env reference) per kind.
TABLES: dict[ProviderKind, dict[str, Any]] = {
    ProviderKind.THINGSPACE: {
        "account": "0000123456-00001",
        "app_key": "k",
        "app_secret": "env:FZ_SECRET",
        "username": "u",
        "password": "env:FZ_SECRET",
    },
    ProviderKind.OCEANCONNECT: {
        "base_url": "https://oc.example:8743",
        "app_id": "a",
        "secret": "env:FZ_SECRET",
    },
    ProviderKind.ONENET: {"api_key": "env:FZ_SECRET"},
    ProviderKind.AOVX: {"token": "env:FZ_SECRET"},
}


def config(kind: ProviderKind, **changes: Any) -> Any:
    table = {"kind": kind.value, "name": "p", **TABLES[kind], **changes}
    return PROVIDER_CONFIG_CLASSES[kind].model_validate(table)


@pytest.fixture(autouse=True)
def secret_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FZ_SECRET", "not-a-real-secret")


@pytest.fixture
def no_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    """Retries still happen, without waiting between them."""
    original = registry.client_options

    async def no_sleep(seconds: float) -> None:
        return None

    def patched(cfg: Any, transport: Any = None) -> Any:
        return dataclasses.replace(original(cfg, transport), sleep=no_sleep)

    monkeypatch.setattr(registry, "client_options", patched)


class TlsServer:
    """HTTPS on 127.0.0.1 with a self-signed certificate; counts requests that got through."""

    def __init__(self, folder: Path) -> None:
        cert, key = folder / "cert.pem", folder / "key.pem"
        subprocess.run(
            [
                "openssl",
                "req",
                "-x509",
                "-newkey",
                "ec",
                "-pkeyopt",
                "ec_paramgen_curve:prime256v1",
                "-nodes",
                "-keyout",
                str(key),
                "-out",
                str(cert),
                "-days",
                "1",
                "-subj",
                "/CN=127.0.0.1",
                "-addext",
                "subjectAltName=IP:127.0.0.1",
            ],
            check=True,
            capture_output=True,
            timeout=30,
        )
        self.handled = 0
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: object) -> None:
                pass

            def _answer(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                self.rfile.read(length)
                server.handled += 1
                body = ONENET_OK.encode()
                self.send_response(200)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_GET = do_POST = do_PUT = _answer

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(cert, key)
        self.httpd.socket = context.wrap_socket(self.httpd.socket, server_side=True)
        self.url = f"https://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture(scope="module")
def tls_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TlsServer]:
    if shutil.which("openssl") is None:
        pytest.skip("needs the openssl command to make a self-signed certificate")
    server = TlsServer(tmp_path_factory.mktemp("tls"))
    yield server
    server.close()


@pytest.fixture
def refusing_url() -> str:
    """An https URL on loopback where nothing listens (connection refused)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"https://127.0.0.1:{port}"


def write_profile(config_dir: Path, name: str, body: str) -> None:
    folder = config_dir / "profiles"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{name}.toml").write_text(body)


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    return code, out, err


# -- the default, and what the adapters do with it ----------------------------------------------
@pytest.mark.parametrize("kind", list(ProviderKind))
def test_verify_tls_defaults_to_true_for_every_kind(kind: ProviderKind):
    cfg = config(kind)
    assert cfg.verify_tls is True
    assert registry.client_options(cfg).verify_tls is True
    assert insecure_transport_warnings(cfg) == []
    assert insecure_transport_warnings(config(kind, verify_tls=False)) == [
        "provider 'p': verify_tls = false, so the server's certificate is not checked"
    ]


@pytest.mark.parametrize("kind", list(ProviderKind))
async def test_every_adapter_refuses_a_self_signed_certificate_by_default(
    kind: ProviderKind, tls_server: TlsServer, no_backoff: None
):
    before = tls_server.handled
    client = registry.build_client(config(kind, base_url=tls_server.url))
    try:
        health = await client.health()
    finally:
        await client.aclose()
    assert not health.ok
    assert "CERTIFICATE_VERIFY_FAILED" in (health.message or "")
    assert tls_server.handled == before, "a request got through an unverified TLS connection"


@pytest.mark.parametrize("kind", list(ProviderKind))
async def test_verify_tls_false_really_skips_the_certificate_check(
    kind: ProviderKind, tls_server: TlsServer, no_backoff: None
):
    before = tls_server.handled
    client = registry.build_client(config(kind, base_url=tls_server.url, verify_tls=False))
    try:
        health = await client.health()  # the answer is OneNET's; other kinds may reject it
    finally:
        await client.aclose()
    assert tls_server.handled > before
    assert "CERTIFICATE" not in (health.message or "")
    assert health.ok is (kind is ProviderKind.ONENET)


# -- fota-tui status ------------------------------------------------------------------------------------
def onenet_profile(base_url: str, verify: bool | None) -> str:
    line = "" if verify is None else f"verify_tls = {str(verify).lower()}\n"
    return (
        '[[providers]]\nkind = "onenet"\nname = "cmcc"\n'
        f'base_url = "{base_url}"\n{line}api_key = "env:FZ_SECRET"\n'
    )


WARNING = "! provider 'cmcc': verify_tls = false, so the server's certificate is not checked"


def test_status_warns_even_when_the_provider_fails(
    refusing_url: str,
    isolated_dirs: dict[str, Path],
    capsys: pytest.CaptureFixture[str],
    no_backoff: None,
):
    write_profile(isolated_dirs["config"], "p", onenet_profile(refusing_url, verify=False))
    code, out, err = run(capsys, "status", "--profile", "p")
    assert code == 1
    assert "cmcc" in out and "FAIL" in out
    assert WARNING in out.splitlines()
    assert "cmcc: Unavailable" in err


def test_status_warns_when_verification_is_off_and_the_provider_answers(
    tls_server: TlsServer, isolated_dirs: dict[str, Path], capsys: pytest.CaptureFixture[str]
):
    write_profile(isolated_dirs["config"], "p", onenet_profile(tls_server.url, verify=False))
    code, out, _ = run(capsys, "status", "--profile", "p")
    assert code == 0
    assert WARNING in out.splitlines()
    code, out, _ = run(capsys, "status", "--profile", "p", "--format", "json")
    assert code == 0
    (provider,) = json.loads(out)["providers"]
    assert provider["warnings"] == [WARNING.removeprefix("! ")]


def test_status_with_default_verification_refuses_a_self_signed_server(
    tls_server: TlsServer,
    isolated_dirs: dict[str, Path],
    capsys: pytest.CaptureFixture[str],
    no_backoff: None,
):
    write_profile(isolated_dirs["config"], "p", onenet_profile(tls_server.url, verify=None))
    code, out, err = run(capsys, "status", "--profile", "p")
    assert code == 1
    assert "CERTIFICATE_VERIFY_FAILED" in err
    assert "verify_tls" not in out and "!" not in out  # nothing insecure to warn about


@pytest.mark.parametrize(
    ("root", "warned"),
    [
        ("http://127.0.0.1:8080", False),
        ("http://[::1]:8080", False),
        ("http://localhost:8080", False),
        ("http://sim.localhost", False),
        ("http://iot.example.com", True),
        ("http://10.0.0.5:8743", True),
        ("https://iot.example.com", False),
    ],
)
async def test_status_report_warns_about_plain_http_off_loopback_only(
    root: str, warned: bool, tmp_path: Path
):
    """The real adapter and report against the in-process simulator (the host is only a
    name here: no socket is opened)."""
    from fota_tui.config.schema import Profile

    sim = Simulator.build(kinds=[ProviderKind.ONENET], devices=5)
    sim.dialects[ProviderKind.ONENET].rate_limit = None  # type: ignore[attr-defined]
    key = OneNetDialect.credentials["api_key"]
    profile = Profile.model_validate(
        {
            "name": "p",
            "providers": [
                {"kind": "onenet", "name": "cmcc", "base_url": f"{root}/onenet", "api_key": key}
            ],
        }
    )
    workspace = Workspace(profile, tmp_path, transport=sim.transport())
    try:
        report = await status_report.collect(workspace)
    finally:
        await workspace.aclose()
    (result,) = report.providers
    assert result.error is None and result.snapshot is not None
    table = status_report.render_table(report)
    host = root.split("://")[1].split(":8")[0].strip("[]")
    line = f"! provider 'cmcc': base_url uses plain http:// to {host}; "
    assert any(text.startswith(line) for text in table.splitlines()) is warned
    assert bool(result.warnings) is warned


# -- fota-tui profiles show --------------------------------------------------------------------------
def test_profiles_show_warns_for_verify_tls_false_but_not_for_loopback_http(
    isolated_dirs: dict[str, Path], capsys: pytest.CaptureFixture[str]
):
    write_profile(isolated_dirs["config"], "off", onenet_profile("https://iot.example.com", False))
    write_profile(isolated_dirs["config"], "lo", onenet_profile("http://127.0.0.1:8080", None))
    code, out, _ = run(capsys, "profiles", "show", "off")
    assert code == 0
    assert "verify_tls = false, so the server's certificate is not checked" in out
    code, out, _ = run(capsys, "profiles", "show", "lo")
    assert code == 0
    assert "plain http://" not in out and "verify_tls = false" not in out
