"""`scorehost client` against running bridges: OSC (the server touches the files) and HTTP."""

from __future__ import annotations

import subprocess
import sys

from click.testing import CliRunner
from scorehost.bridges.client.cli import client
from scorehost.core.scoreio import read_score, write_score


def test_client_over_osc(osc_server, chorale, tmp_path):
    bridge = osc_server()
    source = write_score(chorale, tmp_path / "in.mid")
    runner = CliRunner()
    base = ["--port", str(bridge.port)]
    result = runner.invoke(client, [*base, "ping"])
    assert result.exit_code == 0 and "models" in result.output
    result = runner.invoke(client, [*base, "models"])
    assert result.exit_code == 0 and "echo: test: returns the input unchanged" in result.output
    out = tmp_path / "out.musicxml"
    result = runner.invoke(
        client, [*base, "edit", str(source), "-o", str(out), "-m", "octave", "-r", "bass:2", "--seed", "3"]
    )
    assert result.exit_code == 0, result.output
    assert f"wrote {out}" in result.output and len(read_score(out).tracks) == 4
    result = runner.invoke(
        client, [*base, "edit", str(source), "-o", str(tmp_path / "x.mid"), "-m", "echo", "-r", "bass:99"]
    )
    assert result.exit_code != 0 and "bar 99 is not in the score" in str(result.exception)
    result = runner.invoke(client, [*base, "cancel", "0123"])
    assert "no job 0123" in str(result.exception)


def test_client_over_http(host, chorale, tmp_path):
    from scorehost.bridges.http.server import HttpBridge
    from scorehost.core.engine import Engine
    from scorehost.core.settings import Settings

    engine = Engine(host, device="cpu")
    bridge = HttpBridge()
    bridge.start(engine, Settings(http_port=0))
    try:
        source = write_score(chorale, tmp_path / "in.musicxml")
        base = ["--via", "http", "--port", str(bridge.port)]
        runner = CliRunner()
        assert "slow" in runner.invoke(client, [*base, "models", "--json"]).output
        result = runner.invoke(
            client,
            [
                *base,
                "edit",
                str(source),
                "-o",
                str(tmp_path / "o.mid"),
                "-m",
                "echo",
                "-r",
                "alto:1",
                "-n",
                "2",
            ],
        )
        assert result.exit_code == 0, result.output
        assert (tmp_path / "o-1.mid").exists() and (tmp_path / "o-2.mid").exists()
        result = runner.invoke(
            client, [*base, "edit", str(source), "-o", str(tmp_path / "f.mid"), "-m", "fails", "-r", "alto:1"]
        )
        assert "divided by zero" in str(result.exception)
    finally:
        bridge.stop()
        engine.shutdown(timeout=2)


def test_client_is_a_scorehost_command_and_says_when_no_server_answers():
    proc = subprocess.run(
        [sys.executable, "-m", "scorehost.core", "client", "--port", "9", "--timeout", "0.5", "ping"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 1
    assert "is `scorehost serve --bridge osc` running there?" in proc.stderr
