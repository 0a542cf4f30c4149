"""The MuseScore plugins, shipped as package data; they talk to the HTTP bridge.

MuseScore makes one menu entry per .qml file: scorehost.qml ("Harmonize selection"),
scorehost_fill.qml ("Fill selection") and scorehost_theme.qml ("Develop theme") all import
scorehost.js, which must sit beside them.
`scorehost musescore-plugin` prints where the files are, or copies them into MuseScore's
plugin folder.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import click

from scorehost.core import hookimpl
from scorehost.core.errors import ScorehostError

HERE = Path(__file__).parent
PLUGIN_QML = HERE / "scorehost.qml"  # Harmonize selection
FILL_QML = HERE / "scorehost_fill.qml"  # Fill selection
THEME_QML = HERE / "scorehost_theme.qml"  # Develop theme
SHARED_JS = HERE / "scorehost.js"
PLUGIN_FILES = (PLUGIN_QML, FILL_QML, THEME_QML, SHARED_JS)  # what a plugin folder needs, together


@hookimpl
def register_commands(cli):
    @cli.command(name="musescore-plugin")
    @click.option(
        "--copy-to",
        type=click.Path(file_okay=False, path_type=Path),
        default=None,
        help="MuseScore's plugin folder, e.g. ~/Documents/MuseScore3/Plugins or ~/Documents/MuseScore4/Plugins.",
    )
    def musescore_plugin(copy_to: Path | None) -> None:
        """Show or install the MuseScore plugins ("Harmonize selection", "Fill selection",
        "Develop theme")."""
        if copy_to is None:
            for path in PLUGIN_FILES:
                click.echo(path)
            return
        folder = copy_to.expanduser() / "scorehost"
        present = [p.name for p in PLUGIN_FILES if (folder / p.name).exists()]
        if present:  # never write over files a user may have edited
            raise ScorehostError(
                f"{folder} already holds {', '.join(present)}; remove them first to install this version"
            )
        folder.mkdir(parents=True, exist_ok=True)
        for path in PLUGIN_FILES:
            shutil.copy(path, folder / path.name)
        click.echo(
            f"installed {folder} (Harmonize selection, Fill selection, Develop theme); enable them in MuseScore's "
            "Plugin Manager, then run `scorehost serve`"
        )
