"""The README says exactly what the skipped end-to-end tests need, as .ci/run installs it."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _block(marker: str) -> str:
    """The code block after <!-- marker --> in the README."""
    text = (ROOT / "README.md").read_text()
    after = text.split(f"<!-- {marker} -->", 1)[1]
    return after.split("```", 2)[1]


def _apt_packages(text: str) -> set[str]:
    line = next(line for line in text.splitlines() if "apt-get install" in line)
    return {word for word in line.split("install", 1)[1].split() if not word.startswith(("-", ">"))}


def test_the_readme_installs_what_ci_installs():
    assert _apt_packages(_block("e2e-packages")) == _apt_packages((ROOT / ".ci" / "run").read_text())


def test_every_skip_that_names_a_package_names_one_the_readme_lists():
    listed = _apt_packages(_block("e2e-packages"))
    named = set()
    for path in (ROOT / "tests").rglob("*.py"):
        named |= set(re.findall(r"apt-get install ([a-z0-9][a-z0-9.+-]+)", path.read_text()))
    assert named and named <= listed, named - listed
    table = (ROOT / "README.md").read_text()
    assert all(f"`{package}`" in table for package in named)  # in the table, with what needs it


def test_skips_say_why():
    addopts = re.search(r'addopts = "([^"]*)"', (ROOT / "pyproject.toml").read_text()).group(1)
    assert "-rs" in addopts.split()
