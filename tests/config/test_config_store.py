import multiprocessing
import os
import stat
import tomllib
from pathlib import Path

import pytest

from fota_tui.config.paths import AppPaths
from fota_tui.config.schema import AppConfig, OneNetConfig, Preferences, Profile, ThingSpaceConfig
from fota_tui.config.store import ConfigStore, file_lock
from fota_tui.errors import ConfigError


def make_profile(name: str = "lab", label: str = "Lab bench") -> Profile:
    return Profile(
        name=name,
        label=label,
        environment="lab",
        refresh_interval=12.5,
        providers=[
            ThingSpaceConfig(
                name="ts",
                account="acct",
                app_key="key",
                app_secret="env:TS_SECRET",
                username="bob",
                password="cmd:pass show ts",
                status_map={"Weird": "failed"},
            ),
            OneNetConfig(name="on", api_key="file:~/onenet.key", imeis=["8600001", "8600002"]),
        ],
    )


def tree(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


def test_profile_round_trip(app_paths: AppPaths):
    store = ConfigStore(app_paths)
    profile = make_profile()
    path = store.save_profile(profile)
    assert path == app_paths.profiles_dir / "lab.toml"
    assert store.load_profile("lab") == profile
    assert store.list_profiles() == ["lab"]
    data = tomllib.loads(path.read_text())
    assert "name" not in data  # the name is the file name
    assert data["providers"][0]["kind"] == "thingspace"
    assert "base_url" not in data["providers"][0]  # defaults are not frozen into the file
    assert data["providers"][1]["imeis"] == ["8600001", "8600002"]


def test_config_round_trip(app_paths: AppPaths):
    store = ConfigStore(app_paths)
    assert store.load_config() == AppConfig()
    assert not app_paths.config_dir.exists()  # loading creates nothing
    config = AppConfig(default_profile="lab", preferences=Preferences(low_bandwidth=True))
    store.save_config(config)
    assert store.load_config() == config


def test_writes_are_0600_in_0700_dirs(app_paths: AppPaths):
    store = ConfigStore(app_paths)
    path = store.save_profile(make_profile())
    store.save_config(AppConfig(default_profile="lab"))
    for file in (path, app_paths.config_file):
        assert stat.S_IMODE(file.stat().st_mode) == 0o600
    for folder in (app_paths.config_dir, app_paths.profiles_dir):
        assert stat.S_IMODE(folder.stat().st_mode) == 0o700


def test_existing_file_with_loose_mode_is_replaced_with_0600(app_paths: AppPaths):
    store = ConfigStore(app_paths)
    path = store.save_profile(make_profile())
    os.chmod(path, 0o644)
    store.save_profile(make_profile(label="again"))
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_failed_write_leaves_old_file_intact(app_paths: AppPaths, monkeypatch):
    store = ConfigStore(app_paths)
    path = store.save_profile(make_profile())
    before = path.read_bytes()

    def broken_replace(src, dst):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", broken_replace)
    with pytest.raises(ConfigError) as info:
        store.save_profile(make_profile(label="new label"))
    assert str(path) in str(info.value) and "No space left" in str(info.value)
    assert path.read_bytes() == before
    assert tree(app_paths.profiles_dir) == ["lab.toml", "lab.toml.lock"]  # no temp left


def test_overwrite_false_refuses_existing(app_paths: AppPaths):
    store = ConfigStore(app_paths)
    store.save_profile(make_profile())
    with pytest.raises(ConfigError, match="already exists"):
        store.save_profile(make_profile(label="other"), overwrite=False)
    assert store.load_profile("lab").label == "Lab bench"


def test_missing_profile_lists_available(app_paths: AppPaths):
    store = ConfigStore(app_paths)
    with pytest.raises(ConfigError, match="no profiles yet"):
        store.load_profile("prod")
    store.save_profile(make_profile("lab"))
    store.save_profile(make_profile("staging"))
    with pytest.raises(ConfigError) as info:
        store.load_profile("prod")
    assert "no profile named 'prod'" in str(info.value)
    assert "available: lab, staging" in str(info.value)
    assert str(app_paths.profiles_dir / "prod.toml") in str(info.value)


@pytest.mark.parametrize("name", ["../evil", "a/b", ".hidden", "", "-x"])
def test_bad_profile_names_are_rejected(app_paths: AppPaths, name):
    with pytest.raises(ConfigError, match="invalid profile name"):
        ConfigStore(app_paths).profile_path(name)


def test_invalid_toml_names_file_and_line(app_paths: AppPaths):
    store = ConfigStore(app_paths)
    app_paths.profiles_dir.mkdir(parents=True)
    path = app_paths.profiles_dir / "lab.toml"
    path.write_text('label = "ok"\nenvironment = lab\n')
    with pytest.raises(ConfigError) as info:
        store.load_profile("lab")
    assert info.value.path == str(path)
    assert info.value.key == "line 2, column 15"
    assert str(info.value).startswith(f"{path}: line 2, column 15: invalid TOML")


def test_corrupt_files_are_never_overwritten_by_a_load(app_paths: AppPaths):
    store = ConfigStore(app_paths)
    app_paths.profiles_dir.mkdir(parents=True)
    garbage = b"default_profile = \n\x00\xff not toml"
    app_paths.config_file.write_bytes(garbage)
    (app_paths.profiles_dir / "lab.toml").write_bytes(garbage)
    for load in (store.load_config, lambda: store.load_profile("lab")):
        with pytest.raises(ConfigError):
            load()
    # a read-modify-write stops at the load, too
    with pytest.raises(ConfigError):
        store.update_config(lambda c: c.model_copy(update={"default_profile": "x"}))
    assert app_paths.config_file.read_bytes() == garbage
    assert (app_paths.profiles_dir / "lab.toml").read_bytes() == garbage


def test_validation_errors_list_every_problem_one_per_line(app_paths: AppPaths):
    app_paths.profiles_dir.mkdir(parents=True)
    path = app_paths.profiles_dir / "lab.toml"
    path.write_text(
        'environment = "prod"\n'
        "[[providers]]\n"
        'kind = "onenet"\nname = "on"\napi_key = "env:K"\ntimeout = "slow"\n'
    )
    with pytest.raises(ConfigError) as info:
        ConfigStore(app_paths).load_profile("lab")
    lines = str(info.value).splitlines()
    assert lines[0].startswith(f"{path}: environment: expected 'production'")
    assert lines[1].startswith(f"{path}: providers[0].timeout: expected a valid number")


def test_name_key_in_file_is_rejected(app_paths: AppPaths):
    app_paths.profiles_dir.mkdir(parents=True)
    (app_paths.profiles_dir / "lab.toml").write_text('name = "other"\n')
    with pytest.raises(ConfigError) as info:
        ConfigStore(app_paths).load_profile("lab")
    assert info.value.key == "name" and "file name" in str(info.value)


def test_remove_profile_clears_default(app_paths: AppPaths):
    store = ConfigStore(app_paths)
    store.save_profile(make_profile("lab"))
    store.save_profile(make_profile("prod"))
    store.save_config(AppConfig(default_profile="lab"))
    store.remove_profile("prod")
    assert store.load_config().default_profile == "lab"
    store.remove_profile("lab")
    assert store.list_profiles() == []
    assert store.load_config().default_profile is None
    with pytest.raises(ConfigError, match="no profile named 'lab'"):
        store.remove_profile("lab")


def test_select_profile(app_paths: AppPaths):
    store = ConfigStore(app_paths)
    with pytest.raises(ConfigError, match="no profiles yet"):
        store.select_profile()
    store.save_profile(make_profile("lab"))
    assert store.select_profile().name == "lab"  # the only one
    store.save_profile(make_profile("prod"))
    with pytest.raises(ConfigError, match="available: lab, prod"):
        store.select_profile()
    store.save_config(AppConfig(default_profile="prod"))
    assert store.select_profile().name == "prod"
    assert store.select_profile("lab").name == "lab"


# --- two processes at once -------------------------------------------------------------


def _count_under_lock(target: str, counter: str, rounds: int) -> None:
    for _ in range(rounds):
        with file_lock(Path(target)):
            path = Path(counter)
            value = int(path.read_text())
            path.write_text(str(value + 1))  # deliberately not atomic: only the lock protects it


def _save_many(config_dir: str, label: str, rounds: int) -> None:
    from fota_tui.config.paths import resolve_paths

    store = ConfigStore(resolve_paths(config_dir))
    for i in range(rounds):
        store.save_profile(make_profile("shared", label=f"{label}-{i}"))
        store.save_profile(make_profile(f"own-{label}", label=f"{label}-{i}"))


def _run_all(target, arg_sets) -> None:
    ctx = multiprocessing.get_context("spawn")
    procs = [ctx.Process(target=target, args=args) for args in arg_sets]
    for proc in procs:
        proc.start()
    for proc in procs:
        proc.join(timeout=60)
        assert proc.exitcode == 0


def test_lock_gives_mutual_exclusion_across_processes(tmp_path: Path):
    counter = tmp_path / "counter"
    counter.write_text("0")
    target = str(tmp_path / "cfg" / "config.toml")
    _run_all(_count_under_lock, [(target, str(counter), 150)] * 3)
    assert counter.read_text() == "450"


def test_concurrent_saves_never_interleave(tmp_path: Path):
    config_dir = tmp_path / "cfg"
    _run_all(_save_many, [(str(config_dir), "a", 25), (str(config_dir), "b", 25)])
    from fota_tui.config.paths import resolve_paths

    store = ConfigStore(resolve_paths(config_dir))
    assert store.list_profiles() == ["own-a", "own-b", "shared"]
    assert store.load_profile("shared").label in {"a-24", "b-24"}
    assert store.load_profile("own-a").label == "a-24"
    assert not [p for p in (config_dir / "profiles").iterdir() if p.name.endswith(".tmp")]
