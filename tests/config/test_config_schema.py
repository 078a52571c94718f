import pytest
from pydantic import ValidationError

from fota_tui.config.schema import (
    AovxConfig,
    AppConfig,
    OceanConnectConfig,
    OneNetConfig,
    Profile,
    ThingSpaceConfig,
    dotted_key,
    format_validation_error,
    insecure_transport_warnings,
)
from fota_tui.models import ProviderKind, UpgradeState

TS = {
    "kind": "thingspace",
    "name": "ts",
    "account": "acct",
    "app_key": "key",
    "app_secret": "env:TS_SECRET",
    "username": "bob",
    "password": "env:TS_PASSWORD",
}


def problems(data: dict) -> list[tuple[str | None, str]]:
    with pytest.raises(ValidationError) as info:
        Profile.model_validate({"name": "lab", **data})
    return format_validation_error(info.value, Profile, data)


def test_defaults_and_public_base_urls():
    profile = Profile.model_validate(
        {
            "name": "lab",
            "providers": [
                TS,
                {"kind": "onenet", "name": "on", "api_key": "env:K"},
                {"kind": "aovx", "name": "ax", "token": "env:T"},
            ],
        }
    )
    assert profile.environment == "production" and profile.refresh_interval == 30
    ts, onenet, aovx = profile.providers
    assert isinstance(ts, ThingSpaceConfig) and ts.kind is ProviderKind.THINGSPACE
    assert ts.base_url == "https://thingspace.verizon.com/api"
    assert ts.api_version == "both" and ts.timeout == 15 and ts.verify_tls
    assert isinstance(onenet, OneNetConfig) and onenet.base_url == "https://api.heclouds.com"
    assert isinstance(aovx, AovxConfig) and aovx.base_url == "https://cloud.aovx.com/prod"
    assert aovx.login_path == "/system/user/login" and not aovx.password_is_md5
    assert profile.provider("on") is onenet
    assert profile.display_label == "lab"


def test_oceanconnect_needs_base_url_with_port_hint():
    [(key, message)] = problems(
        {"providers": [{"kind": "oceanconnect", "name": "oc", "app_id": "a", "secret": "env:S"}]}
    )
    assert key == "providers[0].base_url"
    assert "https://<server>:8743" in message
    oc = OceanConnectConfig(name="oc", base_url="https://10.1.2.3:8743/", app_id="a", secret="s")
    assert oc.base_url == "https://10.1.2.3:8743" and oc.rate_limit_per_minute == 100


def test_oceanconnect_client_key_needs_cert():
    with pytest.raises(ValidationError, match="client_cert"):
        OceanConnectConfig(
            name="oc", base_url="https://h:8743", app_id="a", secret="s", client_key="k.pem"
        )


def test_aovx_needs_token_or_username_and_password():
    [(key, message)] = problems({"providers": [{"kind": "aovx", "name": "ax"}]})
    assert key == "providers[0]" and "token" in message
    [(key, message)] = problems({"providers": [{"kind": "aovx", "name": "ax", "username": "u"}]})
    assert "set both" in message
    assert AovxConfig(name="ax", username="u", password="env:P").token is None


def test_unknown_kind_lists_the_kinds():
    [(key, message)] = problems({"providers": [{"kind": "sigfox", "name": "x"}]})
    assert key == "providers[0].kind"
    assert "unknown kind 'sigfox'" in message and "thingspace, oceanconnect" in message


def test_unknown_key_suggests_the_close_one():
    [(key, message)] = problems({"providers": [{**TS, "timout": 3}]})
    assert key == "providers[0].timout"
    assert "did you mean 'timeout'" in message and "provider 'ts'" in message
    [(key, message)] = problems({"lable": "x"})
    assert key == "lable" and "did you mean 'label'" in message


def test_wrong_type_names_the_key_and_expectation():
    [(key, message)] = problems({"providers": [{**TS, "timeout": "fast"}]})
    assert key == "providers[0].timeout"
    assert "expected a valid number" in message and "'fast'" in message


def test_wrong_type_on_a_secret_never_echoes_the_value():
    [(key, message)] = problems({"providers": [{**TS, "password": 987654321}]})
    assert key == "providers[0].password"
    assert "987654321" not in message


def test_duplicate_provider_names():
    [(key, message)] = problems({"providers": [TS, {**TS, "account": "other"}]})
    assert key == "providers[1].name"
    assert "duplicate provider name 'ts'" in message and "providers[0]" in message


def test_provider_name_pattern():
    [(key, message)] = problems({"providers": [{**TS, "name": "ts main"}]})
    assert key == "providers[0].name" and "letters, digits" in message


def test_status_map_values_must_be_upgrade_states():
    good = ThingSpaceConfig.model_validate({**TS, "status_map": {"Weird": "in_progress"}})
    assert good.status_map == {"Weird": UpgradeState.IN_PROGRESS}
    [(key, message)] = problems({"providers": [{**TS, "status_map": {"Odd One": "broken"}}]})
    assert key == 'providers[0].status_map."Odd One"'
    assert "'succeeded'" in message and "'broken'" in message


def test_refresh_interval_and_timeout_bounds():
    assert [k for k, _ in problems({"refresh_interval": 0.5})] == ["refresh_interval"]
    assert [k for k, _ in problems({"providers": [{**TS, "timeout": 0}]})] == [
        "providers[0].timeout"
    ]


def test_base_url_must_be_http_url():
    [(key, message)] = problems({"providers": [{**TS, "base_url": "ftp://x"}]})
    assert key == "providers[0].base_url" and "http://" in message


def test_app_config_preferences():
    config = AppConfig.model_validate(
        {"default_profile": "lab", "preferences": {"theme": "nord", "low_bandwidth": True}}
    )
    assert config.preferences.low_bandwidth and config.preferences.theme == "nord"
    with pytest.raises(ValidationError) as info:
        AppConfig.model_validate({"preferences": {"colour": "x"}})
    [(key, message)] = format_validation_error(info.value, AppConfig, {})
    assert key == "preferences.colour" and "theme" in message


def test_models_are_frozen():
    cfg = ThingSpaceConfig.model_validate(TS)
    with pytest.raises(ValidationError):
        cfg.timeout = 1  # type: ignore[misc]


@pytest.mark.parametrize(
    ("base_url", "verify_tls", "expected"),
    [
        ("https://thingspace.verizon.com/api", True, []),
        ("http://127.0.0.1:8080", True, []),
        ("http://127.5.5.5:8080", True, []),
        ("http://[::1]:8080", True, []),
        ("http://localhost:8080", True, []),
        ("http://sim.localhost/thingspace", True, []),
        ("http://localhost.example.com", True, ["plain http:// to localhost.example.com"]),
        ("http://10.0.0.5:8743", True, ["plain http:// to 10.0.0.5"]),
        ("http://iot.example.com", True, ["plain http:// to iot.example.com"]),
        ("https://iot.example.com", False, ["verify_tls = false"]),
        ("http://iot.example.com", False, ["verify_tls = false", "plain http://"]),
    ],
)
def test_insecure_transport_warnings(base_url, verify_tls, expected):
    cfg = ThingSpaceConfig.model_validate({**TS, "base_url": base_url, "verify_tls": verify_tls})
    warnings = insecure_transport_warnings(cfg)
    assert len(warnings) == len(expected)
    for warning, text in zip(warnings, expected, strict=True):
        assert text in warning and "'ts'" in warning


def test_dotted_key_quotes_odd_keys():
    assert dotted_key(["providers", 2, "timeout"]) == "providers[2].timeout"
    assert dotted_key(["status_map", "a.b"]) == 'status_map."a.b"'
