"""theme: theme-conditioned development (after Theme Transformer). Not yet shipped.

The model registers only once trained weights and their model card ship (weights.shipped());
until then the plugin is not among the host's built-ins either, and its commands run as
`python -m scorehost.plugins.theme train|eval` (see README.md in this folder).
"""

from __future__ import annotations

from pathlib import Path

from scorehost.core.hookspecs import hookimpl


@hookimpl
def register_models(register) -> None:
    from .weights import shipped

    if shipped():  # a model with untrained weights is not offered
        from .model import ThemeModel

        register(ThemeModel())


@hookimpl
def register_commands(cli) -> None:
    from .commands import eval_command, train_command

    cli.commands["train"].add_command(train_command)
    cli.commands["eval"].add_command(eval_command)


class OnWeights:
    """A plugin registering the theme model on the weights in a folder (a training run's
    export), for trying weights that do not ship through the real engine, a benchmark or the
    end-to-end tests: `scorehost.core.testing.plugin_host(OnWeights(folder))`."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    @hookimpl
    def register_models(self, register) -> None:
        from .model import ThemeModel

        register(ThemeModel(weights=self.folder))
