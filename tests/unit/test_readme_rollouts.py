"""The README's rollout examples are the files the tests run (so they cannot drift)."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_every_rollout_example_in_the_readme_is_its_file() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    found = re.findall(
        r"<code>(tests/data/rollouts/\w+\.toml)</code></summary>\n\n```toml\n(.*?)```",
        readme,
        re.S,
    )
    files = sorted(
        p.relative_to(ROOT).as_posix() for p in (ROOT / "tests/data/rollouts").glob("*.toml")
    )
    assert sorted(name for name, _ in found) == files
    for name, text in found:
        assert text == (ROOT / name).read_text(encoding="utf-8"), name
