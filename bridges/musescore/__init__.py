"""The MuseScore plugin (scorehost.qml), shipped as package data; it talks to the HTTP bridge.

`scorehost musescore-plugin` prints where the QML file is, or copies it into MuseScore's
plugin folder.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import click

from scorehost.core import hookimpl
from scorehost.core.errors import ScorehostError

PLUGIN_QML = Path(__file__).with_name("scorehost.qml")


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
        """Show or install the MuseScore plugin ("Harmonize selection")."""
        if copy_to is None:
            click.echo(PLUGIN_QML)
            return
        target = copy_to.expanduser() / "scorehost" / PLUGIN_QML.name
        if target.exists():
            raise ScorehostError(f"{target} exists; remove it first to install this version")
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(PLUGIN_QML, target)
        click.echo(f"installed {target}; enable it in MuseScore's Plugin Manager, then run `scorehost serve`")
