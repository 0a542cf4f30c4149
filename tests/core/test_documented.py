"""Meta-tests: what the code declares is documented, and each hook has a test.

The lists come from the code (the hook specs, the settings the server and each built-in bridge
declare, the error classes), so a hook, setting or error code added without its docs fails
here, by name.
"""

from __future__ import annotations

import ast
import inspect
import re
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

import scorehost.core
from scorehost.core import cli as cli_module
from scorehost.core import errors, hookspecs
from scorehost.core.cli import cli, serve
from scorehost.core.flags import flag_of
from scorehost.core.host import Host
from scorehost.core.newplugin import write_plugin

ROOT = Path(__file__).resolve().parents[2]
TEST_FILES = [
    *(ROOT / "tests").rglob("test_*.py"),
    *(ROOT / "examples").glob("*/tests/test_*.py"),
]


def hook_specs() -> dict[str, str]:
    """Each hook spec in core/hookspecs.py, with its call as the docs write it: name(args)."""
    return {
        name: f"{name}({', '.join(inspect.signature(function).parameters)})"
        for name, function in vars(hookspecs).items()
        if callable(function) and hasattr(function, f"{hookspecs.hookspec.project_name}_spec")
    }


def error_codes() -> dict[str, str]:
    """The code of each ScorehostError class in core/errors.py (class name -> code)."""
    return {
        cls.__name__: cls.code
        for cls in vars(errors).values()
        if inspect.isclass(cls)
        and issubclass(cls, errors.ScorehostError)
        and cls.__module__ == errors.__name__
    }


BUILTINS = Host(env={"SCOREHOST_PLUGINS": ""})  # the built-in plugins only, as a user's would be


def settings() -> dict[str, str]:
    """Each setting (the server's and each built-in bridge's declarations) -> its flag."""
    fields = BUILTINS.settings_class().model_fields
    return {name: flag_of(name, info) for name, info in fields.items()}


def test_the_lists_are_read_from_the_code():
    assert "register_models" in hook_specs() and len(hook_specs()) >= 3
    assert {"host", "token", "max_notes"} <= set(settings())
    # the bridges' own, read from their settings_model
    assert {"http_port", "osc_port", "midi_in"} <= set(settings())
    assert not {"http_port", "osc_port", "midi_in"} & set(BUILTINS.settings_class().__base__.model_fields)
    assert error_codes()["ScorehostError"] == "error" and len(error_codes()) >= 10


@pytest.mark.parametrize("doc", ["docs/plugins.md", "README.md"])
def test_every_hook_is_documented(doc):
    text = (ROOT / doc).read_text()
    missing = [call for call in hook_specs().values() if f"`{call}`" not in text]
    assert not missing, f"{doc} does not document these hooks (as `name(args)`): {missing}"


def _test_functions_naming(word: str) -> list[str]:
    """Test functions (test_*) whose source names word, across the test suites."""
    found = []
    for path in TEST_FILES:
        if path == Path(__file__).resolve():
            continue
        source = path.read_text()
        if word not in source:
            continue
        for node in ast.walk(ast.parse(source)):
            if (
                isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
                and node.name.startswith("test")
                and word in (ast.get_source_segment(source, node) or "")
            ):
                found.append(f"{path.relative_to(ROOT)}::{node.name}")
    return found


def test_every_hook_has_a_test():
    untested = [name for name in hook_specs() if not _test_functions_naming(name)]
    assert not untested, f"no test function names these hooks: {untested}"


@pytest.fixture
def builtin_cli(monkeypatch):
    """The command line with the built-in plugins only."""
    monkeypatch.setattr(cli_module, "_host", BUILTINS)
    return cli


def _serve_flags() -> dict[str, str]:
    """serve's options by the setting they set (click's parameter name) -> the flag."""
    with click.Context(serve) as ctx:
        return {
            p.name: p.opts[0] for p in serve.get_params(ctx) if isinstance(p, click.Option) and p.expose_value
        }


def test_every_serve_flag_is_a_setting(builtin_cli):
    unknown = sorted(set(_serve_flags()) - set(settings()))
    assert not unknown, f"serve has flags that set no setting: {unknown}"


def test_every_setting_has_a_serve_flag_in_its_help(builtin_cli):
    help_text = CliRunner().invoke(builtin_cli, ["serve", "--help"], terminal_width=200).output
    flags = _serve_flags()
    missing = [name for name in settings() if name not in flags or flags[name] not in help_text]
    assert not missing, f"`scorehost serve --help` shows no flag for these settings: {missing}"


def test_every_setting_is_documented():
    text = (ROOT / "docs/settings.md").read_text()
    rows = [line for line in text.splitlines() if line.startswith("|")]
    missing = [
        name
        for name, flag in settings().items()
        if not any(f"`{name}`" in row and f"`{flag}" in row for row in rows)
    ]
    assert not missing, f"docs/settings.md has no row (with the setting and its flag) for: {missing}"


@pytest.mark.parametrize("doc", ["docs/http.md", "docs/osc.md"])
def test_every_error_code_is_documented(doc):
    text = (ROOT / doc).read_text()
    documented = set(re.findall(r"`([a-z_]+)`", text))
    missing = {cls: code for cls, code in error_codes().items() if code not in documented}
    assert not missing, f"{doc} does not document these error codes (class: code): {missing}"


QUOTE = re.compile(r"<!-- quote: (?P<source>[^>]+?) -->\n```\w*\n(?P<code>.*?)\n```", re.DOTALL)


def test_code_quoted_in_the_plugin_tutorial_is_the_real_code(tmp_path):
    """docs/plugins.md marks each block copied from a file with <!-- quote: PATH --> (or
    <!-- quote: new-plugin NAME: FILE --> for a file the template writes); each must stand
    in that file as it is."""
    quotes = list(QUOTE.finditer((ROOT / "docs/plugins.md").read_text()))
    assert len(quotes) >= 10
    drifted, generated = [], {}
    for quote in quotes:
        source = quote["source"]
        if source.startswith("new-plugin "):
            name, _, relative = source.removeprefix("new-plugin ").partition(": ")
            if name not in generated:
                generated[name] = write_plugin(name, tmp_path)
            path = generated[name] / relative
        else:
            path = ROOT / source
        if quote["code"] not in path.read_text():
            drifted.append(f"{source}: {quote['code'].splitlines()[0]!r}")
    assert not drifted, f"docs/plugins.md quotes code that is not in the file: {drifted}"


def test_every_public_name_is_in_the_plugin_docs():
    text = (ROOT / "docs/plugins.md").read_text()
    missing = [name for name in scorehost.core.__all__ if f"`{name}`" not in text]
    assert not missing, f"docs/plugins.md does not mention these names of scorehost.core: {missing}"
