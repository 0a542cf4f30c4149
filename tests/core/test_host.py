"""The pluggy host: built-ins, entry points, SCOREHOST_PLUGINS, and broken plugins."""

import importlib.metadata

import click
import pytest
from click.testing import CliRunner

from scorehost.core import Bridge, hookimpl
from scorehost.core.errors import UnknownModel
from scorehost.core.host import DEFAULT_PLUGINS, Host
from scorehost.core.model import Model


def _thirds_installed() -> bool:
    return any(ep.name == "thirds" for ep in importlib.metadata.entry_points(group="scorehost"))


needs_example = pytest.mark.skipif(
    not _thirds_installed(), reason="examples/scorehost-thirds is not installed"
)


def test_builtins_are_plugins_like_any_other():
    host = Host(env={"SCOREHOST_PLUGINS": ""})
    listed = {p["name"]: p for p in host.plugins()}
    for name in DEFAULT_PLUGINS:
        assert name in listed


@needs_example
def test_entry_point_plugin_loads_and_env_var_limits_it():
    assert "thirds-below" in Host(env={}).models()
    assert "thirds-below" in Host(env={"SCOREHOST_PLUGINS": "thirds"}).models()
    assert "thirds-below" not in Host(env={"SCOREHOST_PLUGINS": ""}).models()
    assert "thirds-below" not in Host(env={"SCOREHOST_PLUGINS": "something-else"}).models()
    plugin = next(p for p in Host(env={}).plugins() if p["name"] == "thirds")
    assert plugin["version"] == "0.1.0" and plugin["hooks"] == ["register_models"]


def test_broken_builtin_is_reported_not_fatal():
    host = Host(builtins=("scorehost.plugins.does_not_exist",), env={"SCOREHOST_PLUGINS": ""})
    listed = host.plugins()
    assert (
        listed[0]["name"] == "scorehost.plugins.does_not_exist"
        and "ModuleNotFoundError" in listed[0]["error"]
    )
    assert host.models() == {}


def test_unknown_model_lists_what_exists(host):
    with pytest.raises(UnknownModel, match="available: batched, echo, fails, hangs, slow, vandal"):
        host.model("nope")


def test_duplicate_model_ids_keep_the_first(host):
    class Again(Model):
        model_id = "echo"
        description = "a second echo"

    class Plugin:
        @hookimpl
        def register_models(self, register):
            register(Again())

    host.pm.register(Plugin(), name="again")
    assert host.model("echo").description != "a second echo"


def test_register_refuses_what_is_not_a_model(host):
    class Plugin:
        @hookimpl
        def register_models(self, register):
            register("not a model")

    host.pm.register(Plugin(), name="bad")
    assert "echo" in host.models()  # the other plugins still register
    broken = next(p for p in host.plugins() if p["name"] == "bad")
    assert "register() takes a Model" in broken["error"]


def test_model_info_publishes_the_options_schema(host):
    info = host.model("slow").info()
    assert info["options_schema"]["properties"]["seconds"]["type"] == "number"
    assert {"seed", "variations"} <= set(info["options_schema"]["properties"])
    assert info["capabilities"]["constraints"] == []


def test_an_implementation_may_take_fewer_arguments(host):
    class Plugin:
        @hookimpl
        def register_models(self):  # takes none of the hook's arguments: pluggy allows it
            Plugin.called = True

    host.pm.register(Plugin(), name="fewer")
    host.models()
    assert Plugin.called and "fewer" not in host.broken


def test_hook_register_bridges_lists_a_plugins_bridge(host):
    class Loopback(Bridge):
        name = "loopback"
        description = "test: a bridge that serves nothing"

        def start(self, engine, settings):
            pass

        def stop(self):
            pass

    class Plugin:
        @hookimpl
        def register_bridges(self, register):
            register(Loopback())

    host.pm.register(Plugin(), name="bridges")
    assert list(host.bridges()) == ["loopback"]
    assert next(p for p in host.plugins() if p["name"] == "bridges")["hooks"] == ["register_bridges"]


def test_hook_register_commands_adds_to_the_command_line(host):
    class Plugin:
        @hookimpl
        def register_commands(self, cli):
            @cli.command()
            def hello():
                click.echo("hello from a plugin")

    group = click.Group("scorehost")
    host.pm.register(Plugin(), name="commands")
    host.pm.hook.register_commands(cli=group)  # as scorehost's main() calls it
    assert CliRunner().invoke(group, ["hello"]).output == "hello from a plugin\n"
