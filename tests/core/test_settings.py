from pathlib import Path
from typing import Literal

import pytest
from click.testing import CliRunner
from pydantic import Field, ValidationError

from scorehost.core import cli as cli_module
from scorehost.core import hookimpl
from scorehost.core.bridge import Bridge, BridgeSettings
from scorehost.core.cli import cli
from scorehost.core.errors import ScorehostError
from scorehost.core.settings import Settings


class LoopSettings(BridgeSettings):
    loop_port: int = Field(default=7000, ge=0, le=65535, description="Port the loop bridge listens on.")
    loop_echo: bool = Field(default=False, description="Echo every request.")
    loop_names: list[str] = Field(default_factory=list, description="Names to answer to; repeat for several.")
    loop_mode: Literal["echo", "drop"] = Field(default="echo", description="What the loop does.")


class Loop(Bridge):
    """A third-party bridge with settings of its own; start() records them and stops serve."""

    name = "loop"
    description = "test: a bridge that serves nothing"
    settings_model = LoopSettings
    seen: LoopSettings | None = None

    def start(self, engine, settings):
        Loop.seen = self.own_settings(settings)
        raise ScorehostError("the loop bridge stops here")

    def stop(self):
        pass


class LoopPlugin:
    @hookimpl
    def register_bridges(self, register):
        register(Loop())


@pytest.fixture
def loop_host(host, monkeypatch):
    """The test host with the loop bridge, as the host `scorehost` runs with."""
    host.pm.register(LoopPlugin(), name="loop")
    monkeypatch.setattr(cli_module, "_host", host)
    Loop.seen = None
    return host


def test_defaults_are_safe():
    settings = Settings()
    assert settings.host == "127.0.0.1" and settings.allowed_dirs == [] and settings.token is None


def test_flags_override_environment_which_overrides_the_config_file(tmp_path, monkeypatch):
    config = tmp_path / "scorehost.toml"
    config.write_text('loop_port = 9000\nqueue_size = 5\ntimeout = 30\nallowed_dirs = ["/tmp"]\n')
    monkeypatch.setenv("SCOREHOST_QUEUE_SIZE", "7")
    settings = Settings.with_bridges([Loop])(config_file=config, timeout=10)
    assert (settings.loop_port, settings.queue_size, settings.timeout) == (9000, 7, 10)
    assert settings.allowed_dirs == [Path("/tmp")]
    assert Loop().own_settings(settings) == LoopSettings(loop_port=9000)


def test_bad_config_is_named(tmp_path):
    with pytest.raises(ScorehostError, match="not found"):
        Settings(config_file=tmp_path / "missing.toml")
    config = tmp_path / "bad.toml"
    config.write_text("loop_prot = 1\n")
    with pytest.raises(Exception, match="loop_prot"):
        Settings.with_bridges([Loop])(config_file=config)


def test_a_bridge_setting_is_refused_where_that_bridge_is_not_registered(tmp_path):
    with pytest.raises(ValidationError, match="loop_port"):
        Settings(loop_port=1)
    assert Loop().own_settings(Settings()) == LoopSettings()  # a bridge's defaults, without its fields


def test_the_same_bridges_give_the_same_settings_class():
    assert Settings.with_bridges([Loop]) is Settings.with_bridges([Loop()])
    assert Settings.with_bridges([]) is Settings


def test_a_third_party_bridge_is_configured_by_flag(loop_host):
    result = CliRunner().invoke(
        cli,
        [
            "serve",
            "--bridge",
            "loop",
            "--loop-port",
            "7100",
            "--loop-echo",
            "--loop-names",
            "a",
            "--loop-mode",
            "drop",
        ],
    )
    assert "the loop bridge stops here" in str(result.exception)
    assert Loop.seen == LoopSettings(loop_port=7100, loop_echo=True, loop_names=["a"], loop_mode="drop")


def test_a_third_party_bridge_is_configured_by_environment_and_config_file(loop_host, tmp_path, monkeypatch):
    config = tmp_path / "scorehost.toml"
    config.write_text('bridges = ["loop"]\nloop_port = 7200\nloop_names = ["x", "y"]\n')
    monkeypatch.setenv("SCOREHOST_LOOP_ECHO", "true")
    monkeypatch.setenv("SCOREHOST_LOOP_PORT", "7300")  # the environment overrides the file
    result = CliRunner().invoke(cli, ["serve", "--config", str(config)])
    assert "the loop bridge stops here" in str(result.exception)
    assert Loop.seen == LoopSettings(loop_port=7300, loop_echo=True, loop_names=["x", "y"])


def test_a_third_party_bridges_flags_are_in_serve_help_with_their_bounds(loop_host):
    result = CliRunner().invoke(cli, ["serve", "--help"], terminal_width=200)
    line = " ".join(next(line for line in result.output.splitlines() if "--loop-port" in line).split())
    assert line == "--loop-port INTEGER RANGE Port the loop bridge listens on. [default: 7000] [0<=x<=65535]"
    assert "--loop-echo / --no-loop-echo" in result.output
    assert "--loop-mode [echo|drop]" in result.output
    assert "Names to answer to; repeat for several.\n" in result.output  # no default shown for []
    refused = CliRunner().invoke(cli, ["serve", "--bridge", "loop", "--loop-port", "70000"])
    assert refused.exit_code == 2 and "70000 is not in the range 0<=x<=65535" in refused.output
    assert Loop.seen is None


def test_a_bridge_may_declare_only_settings_named_for_it(host):
    class Squatter(Bridge):
        name = "squat"
        settings_model = type(
            "SquatSettings", (BridgeSettings,), {"__annotations__": {"http_port": int}, "http_port": 1}
        )

    class Plugin:
        @hookimpl
        def register_bridges(self, register):
            register(Squatter())

    host.pm.register(Plugin(), name="squatter")
    assert "squat" not in host.bridges()
    assert "must begin with 'squat_'" in host.broken["squatter"]


def test_a_bridge_setting_needs_a_default(host):
    class Needy(Bridge):
        name = "needy"
        settings_model = type("NeedySettings", (BridgeSettings,), {"__annotations__": {"needy_key": str}})

    class Plugin:
        @hookimpl
        def register_bridges(self, register):
            register(Needy())

    host.pm.register(Plugin(), name="needy")
    assert "needy" not in host.bridges() and "needs a default" in host.broken["needy"]
