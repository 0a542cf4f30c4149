"""The hooks a scorehost plugin can implement. Mark implementations with @scorehost.core.hookimpl."""

from __future__ import annotations

from pluggy import HookimplMarker, HookspecMarker

hookspec = HookspecMarker("scorehost")
hookimpl = HookimplMarker("scorehost")


@hookspec
def register_models(register):
    """Register models: call register(model) once per Model instance.

    Called once per host. Keep it cheap: construct Model objects, do not load weights
    (Model.load does that on first use).
    """


@hookspec
def register_bridges(register):
    """Register bridges: call register(bridge) with an object that has a name, a
    description and start(engine, settings) / stop() methods (a scorehost.core.Bridge).
    `scorehost serve` starts the bridges its settings enable.

    A bridge's settings_model (a BridgeSettings subclass) declares its own settings, which
    become serve's flags, SCOREHOST_* variables and config keys. Keep registering cheap:
    `scorehost serve --help` calls this hook to list those flags, so import servers in start().
    """


@hookspec
def register_commands(cli):
    """Add commands to the scorehost command line: cli is the click group (its "train"
    and "eval" subgroups take model-specific commands)."""
