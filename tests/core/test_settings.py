from pathlib import Path

import pytest

from scorehost.core.errors import ScorehostError
from scorehost.core.settings import Settings


def test_defaults_are_safe():
    settings = Settings()
    assert settings.host == "127.0.0.1" and settings.allowed_dirs == [] and settings.token is None


def test_flags_override_environment_which_overrides_the_config_file(tmp_path, monkeypatch):
    config = tmp_path / "scorehost.toml"
    config.write_text('http_port = 9000\nqueue_size = 5\ntimeout = 30\nallowed_dirs = ["/tmp"]\n')
    monkeypatch.setenv("SCOREHOST_QUEUE_SIZE", "7")
    settings = Settings(config_file=config, timeout=10)
    assert (settings.http_port, settings.queue_size, settings.timeout) == (9000, 7, 10)
    assert settings.allowed_dirs == [Path("/tmp")]


def test_bad_config_is_named(tmp_path):
    with pytest.raises(ScorehostError, match="not found"):
        Settings(config_file=tmp_path / "missing.toml")
    config = tmp_path / "bad.toml"
    config.write_text("http_prot = 1\n")
    with pytest.raises(Exception, match="http_prot"):
        Settings(config_file=config)
