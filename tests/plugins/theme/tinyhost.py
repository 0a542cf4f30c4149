"""`python tinyhost.py WEIGHTS ARGS...`: the `scorehost` command (`edit`, `serve`, ...) with the
theme model on the weights in the folder WEIGHTS, for the end-to-end tests (serving.py) while
theme is not yet registered. The built-in theme, once it ships, is left out, so that the tests
on tiny weights stay on them."""

from __future__ import annotations

import sys
from pathlib import Path

from scorehost.core import cli
from scorehost.core.host import DEFAULT_PLUGINS, Host
from scorehost.plugins.theme import OnWeights


def host_with_theme(folder: Path, env: dict[str, str] | None = None) -> Host:
    host = Host(builtins=tuple(p for p in DEFAULT_PLUGINS if p != "scorehost.plugins.theme"), env=env)
    host.pm.register(OnWeights(folder), name="theme-on-test-weights")
    return host


if __name__ == "__main__":
    cli._host = host_with_theme(Path(sys.argv.pop(1)))
    cli.main()
