"""mmm: MMM-style bar and track infilling for multi-track material (a built-in plugin)."""

from __future__ import annotations

from scorehost.core.hookspecs import hookimpl


@hookimpl
def register_models(register) -> None:
    from .model import MMM

    register(MMM())


@hookimpl
def register_commands(cli) -> None:
    from .commands import eval_command, train_command

    cli.commands["train"].add_command(train_command)
    cli.commands["eval"].add_command(eval_command)
