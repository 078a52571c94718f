"""``fota-tui profiles list | show | add | remove | check | default``.

Secrets are only ever shown as their reference (``mask``); ``check`` resolves them to
prove they work but never prints a value.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from fota_tui.commands import store_from_args
from fota_tui.config.schema import Profile, ProviderConfigBase, insecure_transport_warnings
from fota_tui.config.secrets import is_plaintext, mask, resolve_secret
from fota_tui.config.store import ConfigStore, load_profile_file
from fota_tui.errors import ConfigError, SecretError
from fota_tui.text import columns

PATH_FIELDS = ("client_cert", "client_key", "ca_bundle")


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "profiles",
        help="list, show, add, remove and check profiles",
        description="Manage profiles (one TOML file per profile in the profiles dir).",
    )
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)

    p = actions.add_parser("list", help="list profiles (* marks the default)")
    p.set_defaults(func=run_list)

    p = actions.add_parser("show", help="show one profile; secrets appear only as references")
    p.add_argument("name", metavar="NAME")
    p.set_defaults(func=run_show)

    p = actions.add_parser(
        "add",
        help="add a profile from a TOML file",
        description="Validate FILE and store it as profile NAME (written atomically, mode 0600)."
        " The first profile added becomes the default.",
    )
    p.add_argument("name", metavar="NAME")
    p.add_argument("--from", dest="from_file", metavar="FILE", required=True, help="profile TOML")
    p.add_argument("--force", action="store_true", help="replace an existing profile")
    p.set_defaults(func=run_add)

    p = actions.add_parser("remove", help="delete a profile")
    p.add_argument("name", metavar="NAME")
    p.set_defaults(func=run_remove)

    p = actions.add_parser(
        "check",
        help="validate profiles and resolve every secret reference",
        description="Validate one profile (or all) and resolve every secret reference, without"
        " printing values. Exit 0 if all are usable (warnings allowed), 2 otherwise.",
    )
    p.add_argument("name", metavar="NAME", nargs="?")
    p.set_defaults(func=run_check)

    p = actions.add_parser("default", help="set the default profile")
    p.add_argument("name", metavar="NAME")
    p.set_defaults(func=run_default)


# --- list / show ---------------------------------------------------------------------


def run_list(args: argparse.Namespace) -> int:
    store = store_from_args(args)
    default = store.load_config().default_profile
    names = store.list_profiles()
    if not names:
        print(f"No profiles in {store.paths.profiles_dir}.")
        print("Add one with: fota-tui profiles add NAME --from FILE")
        return 0
    rows = [("", "NAME", "LABEL", "ENVIRONMENT", "PROVIDERS")]
    for name in names:
        mark = "*" if name == default else ""
        try:
            profile = store.load_profile(name)
        except ConfigError:
            rows.append((mark, name, f"(invalid: see 'fota-tui profiles check {name}')", "", ""))
            continue
        rows.append(
            (mark, name, profile.label or "", profile.environment, str(len(profile.providers)))
        )
    _print_table(rows)
    if default and default not in names:
        print(
            f"\nThe default profile '{default}' does not exist; set another with"
            " 'fota-tui profiles default NAME'."
        )
    return 0


def _print_table(rows: Sequence[Sequence[str]]) -> None:
    print("\n".join(columns([list(row) for row in rows])))


def run_show(args: argparse.Namespace) -> int:
    store = store_from_args(args)
    profile = store.load_profile(args.name)
    is_default = store.load_config().default_profile == profile.name
    print(f"Profile {profile.name}" + (" (default)" if is_default else ""))
    print(f"  file: {store.profile_path(profile.name)}")
    print(f"  label: {profile.label or '(none)'}")
    print(f"  environment: {profile.environment}")
    print(f"  read_only: {_value(profile.read_only)}")
    print(f"  refresh_interval: {profile.refresh_interval:g} s")
    if not profile.providers:
        print("  (no providers)")
    for index, provider in enumerate(profile.providers):
        print(f"\nproviders[{index}]: {provider.name} ({provider.kind.label})")
        for line in _provider_lines(provider):
            print(f"  {line}")
    warnings = profile_warnings(profile)
    if warnings:
        print("\nWarnings:")
        for warning in warnings:
            print(f"  warning: {warning}")
    return 0


def _provider_lines(provider: ProviderConfigBase) -> list[str]:
    lines = []
    for field in type(provider).model_fields:
        if field in ("kind", "name"):
            continue
        value = getattr(provider, field)
        if field in provider.secret_fields:
            if value is not None:
                lines.append(f"{field}: {mask(value)}")
            continue
        if value is None or value == {} or value == []:
            continue
        shown = _value(value)
        if field not in provider.model_fields_set:
            shown += " (default)"
        lines.append(f"{field}: {shown}")
    return lines


def _value(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    if isinstance(value, dict):
        return ", ".join(f"{k} → {v}" for k, v in value.items())
    return str(value)


def profile_warnings(profile: Profile) -> list[str]:
    """Plaintext secrets and insecure transport, never showing a value."""
    warnings = []
    if not profile.providers:
        warnings.append("the profile has no providers")
    for provider in profile.providers:
        warnings.extend(_provider_warnings(provider))
    return warnings


def _provider_warnings(provider: ProviderConfigBase) -> list[str]:
    warnings = [
        f"provider '{provider.name}': {field} holds a plaintext secret;"
        " prefer an env:, file:, cmd: or keyring: reference"
        for field in provider.secret_fields
        if getattr(provider, field) is not None and is_plaintext(getattr(provider, field))
    ]
    return warnings + insecure_transport_warnings(provider)


# --- add / remove / default ----------------------------------------------------------


def run_add(args: argparse.Namespace) -> int:
    store = store_from_args(args)
    source = Path(args.from_file).expanduser()
    store.profile_path(args.name)  # reject a bad NAME before reading anything
    if source.is_dir():
        raise ConfigError("is a directory, expected a profile TOML file", path=str(source))
    profile = load_profile_file(source, args.name)
    if profile is None:
        raise ConfigError("file not found", path=str(source))
    store.load_config()  # a broken config.toml fails here, before anything is written
    path = store.save_profile(profile, overwrite=args.force)
    print(f"Added profile '{profile.name}' ({path}).")
    if store.list_profiles() == [profile.name]:
        # The only profile: any other default would point at nothing.
        store.update_config(lambda c: c.model_copy(update={"default_profile": profile.name}))
        print(f"'{profile.name}' is now the default profile.")
    for warning in profile_warnings(profile):
        print(f"warning: {warning}", file=sys.stderr)
    return 0


def run_remove(args: argparse.Namespace) -> int:
    store = store_from_args(args)
    was_default = store.load_config().default_profile == args.name
    store.remove_profile(args.name)
    print(f"Removed profile '{args.name}'.")
    if was_default:
        print("It was the default profile; set another with 'fota-tui profiles default NAME'.")
    return 0


def run_default(args: argparse.Namespace) -> int:
    store = store_from_args(args)
    profile = store.load_profile(args.name)  # must exist and be valid
    store.update_config(lambda c: c.model_copy(update={"default_profile": profile.name}))
    print(f"'{profile.name}' is now the default profile.")
    return 0


# --- check ---------------------------------------------------------------------------


def run_check(args: argparse.Namespace) -> int:
    store = store_from_args(args)
    names = [args.name] if args.name else store.list_profiles()
    if not names:
        raise ConfigError(
            "no profiles to check; add one with 'fota-tui profiles add NAME --from FILE'",
            path=str(store.paths.profiles_dir),
        )
    failed = sum(not _check_profile(store, name) for name in names)
    checked = len(names)
    print(f"\n{checked} profile{'s' if checked != 1 else ''} checked, {failed} with errors.")
    return 2 if failed else 0


def _check_profile(store: ConfigStore, name: str) -> bool:
    """Print one profile's report; True if it is usable (warnings allowed)."""
    try:
        profile = store.load_profile(name)
    except ConfigError as exc:
        print(f"{name}: error")
        for line in str(exc).splitlines():
            print(f"    error: {line}")
        return False
    print(f"{name}: {store.profile_path(name)}")
    if not profile.providers:
        print("  warning: the profile has no providers")
    ok = True
    for provider in profile.providers:
        errors, warnings = _check_provider(provider)
        status = "error" if errors else "warning" if warnings else "ok"
        print(f"  {provider.name} ({provider.kind.value}): {status}")
        for line in errors:
            print(f"    error: {line}")
        for line in warnings:
            print(f"    warning: {line}")
        ok = ok and not errors
    return ok


def _check_provider(provider: ProviderConfigBase) -> tuple[list[str], list[str]]:
    errors = []
    for field in provider.secret_fields:
        ref = getattr(provider, field)
        if ref is None:
            continue
        try:
            resolve_secret(ref, field=field, provider=provider.name)
        except SecretError as exc:
            errors.append(str(exc))
    for field in PATH_FIELDS:
        value = getattr(provider, field, None)
        if value is not None and not Path(value).expanduser().is_file():
            errors.append(f"{field}: file not found ({value})")
    prefix = f"provider '{provider.name}': "
    return errors, [w.removeprefix(prefix) for w in _provider_warnings(provider)]
