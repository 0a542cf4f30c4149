"""`scorehost musescore-plugin`: the plugin files travel together, since both plugins import
scorehost.js from beside them."""

import re

import click
from click.testing import CliRunner

from scorehost.bridges.musescore import PLUGIN_FILES, register_commands


def command_group() -> click.Group:
    group = click.Group()
    register_commands(group)
    return group


def test_every_import_of_a_plugin_is_shipped_beside_it():
    names = {p.name for p in PLUGIN_FILES}
    for qml in (p for p in PLUGIN_FILES if p.suffix == ".qml"):
        imports = re.findall(r'^import "([^"]+)"', qml.read_text(), re.MULTILINE)
        assert imports and set(imports) <= names, (qml.name, imports)


def test_copy_to_installs_all_files_and_never_writes_over_them(tmp_path):
    runner = CliRunner()
    shown = runner.invoke(command_group(), ["musescore-plugin"])
    assert shown.exit_code == 0 and shown.output.split() == [str(p) for p in PLUGIN_FILES]
    copied = runner.invoke(command_group(), ["musescore-plugin", "--copy-to", str(tmp_path)])
    assert copied.exit_code == 0, copied.output
    for path in PLUGIN_FILES:
        assert (tmp_path / "scorehost" / path.name).read_bytes() == path.read_bytes()
    again = runner.invoke(command_group(), ["musescore-plugin", "--copy-to", str(tmp_path)])
    assert again.exit_code != 0 and "remove them first" in str(again.exception)
