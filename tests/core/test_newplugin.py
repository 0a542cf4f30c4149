"""`scorehost new-plugin`: the package it writes passes its own tests against the installed
scorehost, declares the entry point scorehost finds it by, and nothing is written over."""

import importlib.util
import os
import subprocess
import sys
import tomllib

import pytest
from click.testing import CliRunner

from scorehost.core.cli import cli
from scorehost.core.errors import RequestError
from scorehost.core.testing import plugin_host

NAME = "octave-bass"  # a hyphenated name: slug, module and class names all differ


@pytest.fixture(scope="module")
def package(tmp_path_factory):
    folder = tmp_path_factory.mktemp("plugins")
    result = CliRunner().invoke(cli, ["new-plugin", NAME, "--dir", str(folder)])
    assert result.exit_code == 0, result.output
    assert "next: cd " in result.output
    return folder / f"scorehost-{NAME}"


def test_writes_a_package_with_a_model_and_tests(package):
    files = sorted(str(p.relative_to(package)) for p in package.rglob("*") if p.is_file())
    assert files == ["README.md", "pyproject.toml", "scorehost_octave_bass.py", "tests/test_octave_bass.py"]


def test_its_own_tests_pass_against_the_installed_scorehost(package):
    env = {**os.environ, "PYTHONPATH": str(package)}
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"],
        cwd=package,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "5 passed" in proc.stdout


def test_the_entry_point_names_the_module_and_a_host_sees_its_model(package):
    project = tomllib.loads((package / "pyproject.toml").read_text())
    assert project["project"]["entry-points"]["scorehost"] == {NAME: "scorehost_octave_bass"}
    assert project["tool"]["setuptools"]["py-modules"] == ["scorehost_octave_bass"]
    spec = importlib.util.spec_from_file_location(
        "scorehost_octave_bass", package / "scorehost_octave_bass.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    host = plugin_host(module)
    assert list(host.models()) == [NAME] and not host.broken
    assert host.model(NAME).info()["options_schema"]["properties"]["interval"]["default"] == -12
    plugin = next(p for p in host.plugins() if p["hooks"])
    assert plugin["hooks"] == ["register_models"]


@pytest.mark.skipif(importlib.util.find_spec("ruff") is None, reason="ruff is not installed")
def test_the_generated_code_is_formatted_and_lint_clean(package):
    for args in (["check", "."], ["format", "--check", "."]):
        proc = subprocess.run(
            [sys.executable, "-m", "ruff", *args], cwd=package, capture_output=True, text=True, timeout=60
        )
        assert proc.returncode == 0, proc.stdout + proc.stderr


def test_refuses_to_write_over_an_existing_folder(tmp_path):
    target = tmp_path / "scorehost-transpose"
    target.mkdir()
    (target / "mine.txt").write_text("keep me")
    result = CliRunner().invoke(cli, ["new-plugin", "transpose", "--dir", str(tmp_path)])
    assert isinstance(result.exception, RequestError)
    assert str(result.exception) == f"--dir: {target} exists; scorehost never writes over it"
    assert [p.name for p in target.iterdir()] == ["mine.txt"]


@pytest.mark.parametrize("name", ["", "9lives", "two words", "snake_case", "trailing-"])
def test_refuses_a_name_that_is_not_a_package_name(tmp_path, name):
    result = CliRunner().invoke(cli, ["new-plugin", name, "--dir", str(tmp_path)])
    assert isinstance(result.exception, RequestError) and "is not a plugin name" in str(result.exception)
    assert list(tmp_path.iterdir()) == []
