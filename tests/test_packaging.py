"""Every package folder is listed in pyproject.toml, so `pip install .` ships all of it."""

import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TOP = {"core": "scorehost.core", "plugins": "scorehost.plugins", "bridges": "scorehost.bridges"}


def test_every_package_folder_is_listed():
    listed = set(tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"])
    found = set()
    for folder, package in TOP.items():
        for init in (ROOT / folder).rglob("__init__.py"):
            relative = init.parent.relative_to(ROOT / folder).parts
            found.add(".".join((package, *relative)))
    assert found - listed == set(), "add these to [tool.setuptools] packages"
    assert listed - found == set(), "these are listed but have no folder"
