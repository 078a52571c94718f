"""Config durability: a writer killed (SIGKILL) at any point leaves the old or the new
profile, never a partial one; concurrent savers never interleave and never lose an update;
modes stay 0600/0700 through all of it.

Writers are forked processes (cheap, and killed for real). The parent waits on a pipe for
"one more save finished" before killing, so no test sleeps or depends on timing: the kill
lands at a varying point of the next save (a seeded random spin varies it further).
"""

from __future__ import annotations

import contextlib
import os
import random
import select
import signal
import stat
import sys
import tomllib
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from fota_tui.config.paths import AppPaths, resolve_paths
from fota_tui.config.schema import OneNetConfig, Preferences, Profile, ThingSpaceConfig
from fota_tui.config.store import ConfigStore, profile_to_toml_data

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork (POSIX)")

KILLS = 40
PROGRESS_TIMEOUT = 10.0  # seconds a live writer may take to finish one save


def version(tag: str) -> Profile:
    """A profile big enough (~40 KB) that a save takes a while; the versions differ all over."""
    return Profile(
        name="lab",
        label=tag * 20_000,
        environment="lab",
        refresh_interval=10 if tag == "A" else 20,
        providers=[
            ThingSpaceConfig(
                name=f"ts{tag}",
                account=tag * 8,
                app_key=tag,
                username=tag,
                app_secret=f"env:{tag}_SECRET",
                password=f"env:{tag}_PW",
            ),
            OneNetConfig(
                name=f"on{tag}",
                api_key=f"env:{tag}_KEY",
                imeis=[f"{tag}{i:014d}" for i in range(800)],
            ),
        ],
    )


def toml_text(profile: Profile) -> bytes:
    import tomli_w

    return tomli_w.dumps(profile_to_toml_data(profile)).encode()


@contextlib.contextmanager
def forked(body: Callable[[int], None]) -> Iterator[tuple[int, int]]:
    """Run ``body(progress_fd)`` in a child process; yield (pid, read end of its pipe)."""
    read_fd, write_fd = os.pipe()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # fork with threads (3.12+)
        pid = os.fork()
    if pid == 0:  # the child: never return into pytest
        code = 1
        try:
            os.close(read_fd)
            body(write_fd)
            code = 0
        finally:
            os._exit(code)
    os.close(write_fd)
    try:
        yield pid, read_fd
    finally:
        os.close(read_fd)
        stop(pid)


def stop(pid: int) -> None:
    """Kill and reap our child unless the test already reaped it (never a recycled pid)."""
    try:
        finished, _ = os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        return  # reaped already: the pid may belong to someone else by now
    if finished == 0:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)


def wait_progress(fd: int, saves: int) -> None:
    """Block until the child reports ``saves`` more finished saves (or fail, never hang)."""
    got = 0
    while got < saves:
        ready, _, _ = select.select([fd], [], [], PROGRESS_TIMEOUT)
        assert ready, f"writer made no progress in {PROGRESS_TIMEOUT}s (lock left held?)"
        chunk = os.read(fd, saves - got)
        assert chunk, "writer exited early"
        got += len(chunk)


def save_forever(paths: AppPaths, profiles: list[Profile]) -> Callable[[int], None]:
    def body(progress: int) -> None:
        store = ConfigStore(paths)
        for n in range(sys.maxsize):
            store.save_profile(profiles[n % len(profiles)])
            os.write(progress, b".")

    return body


def assert_private(paths: AppPaths) -> None:
    """Every file 0600 and every directory 0700, leftovers included."""
    assert stat.S_IMODE(paths.config_dir.stat().st_mode) == 0o700
    for path in paths.config_dir.rglob("*"):
        mode = stat.S_IMODE(path.stat().st_mode)
        assert mode == (0o700 if path.is_dir() else 0o600), f"{path} has mode {mode:o}"


@pytest.fixture
def paths(tmp_path: Path) -> AppPaths:
    return resolve_paths(tmp_path / "cfg")


def test_a_writer_killed_at_any_point_leaves_the_old_or_the_new_profile(paths: AppPaths):
    store = ConfigStore(paths)
    a, b = version("A"), version("B")
    texts = {toml_text(a): "A", toml_text(b): "B"}
    store.save_profile(a)
    seen: list[str] = []
    rng = random.Random(7)
    for _ in range(KILLS):
        with forked(save_forever(paths, [b, a])) as (pid, progress):
            wait_progress(progress, rng.randint(1, 3))
            for _ in range(rng.randrange(50_000)):  # vary where in the next save we land
                pass
            os.kill(pid, signal.SIGKILL)
            _, status = os.waitpid(pid, 0)
        assert os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL
        path = store.profile_path("lab")
        raw = path.read_bytes()
        assert raw in texts, f"partial or mixed profile after a kill ({len(raw)} bytes)"
        tomllib.loads(raw.decode())
        assert store.load_profile("lab") in (a, b)
        seen.append(texts[raw])
    assert set(seen) == {"A", "B"}, "the kills never landed between two different saves"
    # Interrupted temp files may stay behind, but are never taken for profiles.
    assert store.list_profiles() == ["lab"]
    assert store.select_profile().name == "lab"
    leftovers = [p.name for p in paths.profiles_dir.iterdir() if p.name.endswith(".tmp")]
    assert all(name.startswith(".lab.toml.") for name in leftovers)
    assert_private(paths)


def test_two_processes_saving_at_once_never_interleave(paths: AppPaths):
    """Every read during two concurrent savers is one complete version, byte for byte."""
    store = ConfigStore(paths)
    a, b = version("A"), version("B")
    texts = {toml_text(a), toml_text(b)}
    store.save_profile(a)
    rounds = 25

    def save(profile: Profile) -> Callable[[int], None]:
        def body(progress: int) -> None:
            writer = ConfigStore(paths)
            for _ in range(rounds):
                writer.save_profile(profile)
                os.write(progress, b".")

        return body

    reads = 0
    with forked(save(a)) as (pid_a, prog_a), forked(save(b)) as (pid_b, prog_b):
        done = {prog_a: 0, prog_b: 0}
        while min(done.values()) < rounds:
            ready, _, _ = select.select(list(done), [], [], PROGRESS_TIMEOUT)
            assert ready, "a writer made no progress"
            for fd in ready:
                done[fd] += len(os.read(fd, rounds)) or rounds  # EOF: the writer is gone
            raw = store.profile_path("lab").read_bytes()
            assert raw in texts, "a read saw a partial or interleaved profile"
            reads += 1
        statuses = [os.waitpid(pid, 0)[1] for pid in (pid_a, pid_b)]
    assert all(os.WIFEXITED(s) and os.WEXITSTATUS(s) == 0 for s in statuses)
    assert reads >= rounds
    assert store.profile_path("lab").read_bytes() in texts
    assert store.load_profile("lab") in (a, b)
    assert not [p for p in paths.profiles_dir.iterdir() if p.name.endswith(".tmp")]
    assert_private(paths)


def test_concurrent_config_updates_lose_nothing(paths: AppPaths):
    """``update_config`` from two processes at once: every increment survives."""
    store = ConfigStore(paths)
    store.save_config(
        store.load_config().model_copy(update={"preferences": Preferences(theme="0")})
    )
    rounds = 40

    def bump(progress: int) -> None:
        writer = ConfigStore(paths)
        for _ in range(rounds):
            writer.update_config(
                lambda c: c.model_copy(
                    update={
                        "preferences": Preferences(theme=str(int(c.preferences.theme or "0") + 1))
                    }
                )
            )
        os.write(progress, b".")

    with forked(bump) as (pid_a, prog_a), forked(bump) as (pid_b, prog_b):
        wait_progress(prog_a, 1)
        wait_progress(prog_b, 1)
        statuses = [os.waitpid(pid, 0)[1] for pid in (pid_a, pid_b)]
    assert all(os.WIFEXITED(s) and os.WEXITSTATUS(s) == 0 for s in statuses)
    assert store.load_config().preferences.theme == str(2 * rounds)
    assert stat.S_IMODE(paths.config_file.stat().st_mode) == 0o600
    assert_private(paths)
