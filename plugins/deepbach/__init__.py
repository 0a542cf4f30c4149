"""deepbach: DeepBach/Coconet-style Gibbs inpainting of four-part chorales (a built-in plugin)."""

from __future__ import annotations

from scorehost.core.hookspecs import hookimpl


@hookimpl
def register_models(register) -> None:
    from .model import DeepBach

    register(DeepBach())


@hookimpl
def register_commands(cli) -> None:
    from .commands import eval_command, train_command  # torch loads only when one runs

    _group(cli, "train").add_command(train_command)
    _group(cli, "eval").add_command(eval_command)


def _group(cli, name: str):
    """The core's train/eval group, or one made here if the core has none."""
    group = cli.commands.get(name)
    if group is None:
        import click

        group = click.Group(name, help=f"{name.capitalize()} a model.")
        cli.add_command(group)
    return group
