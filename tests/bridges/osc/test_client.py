"""`scorehost client` against running bridges: OSC (the server touches the files) and HTTP."""

from __future__ import annotations

import socket
import subprocess
import sys
import time

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
    from scorehost.core.settings import Settings

    from ...conftest import make_engine

    engine = make_engine(host, device="cpu")
    bridge = HttpBridge()
    bridge.start(engine, Settings.with_bridges([HttpBridge])(http_port=0))
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
    assert "Start the server with `scorehost serve --bridge osc`" in proc.stderr


def _free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _edit(source, out) -> list[str]:
    """The arguments of `client edit`: a one-bar edit by the test model echo."""
    return ["edit", str(source), "-o", str(out), "-m", "echo", "-r", "alto:1"]


def _timed(args: list[str]):
    started = time.monotonic()
    result = CliRunner().invoke(client, args)
    return result, time.monotonic() - started


def test_client_finds_out_at_once_that_nothing_listens_for_osc(tmp_path, chorale):
    """With no server on the port, ping and edit fail at once, not at --timeout (300 s unless
    given; 30 s here, so that a client that waits fails this test in reasonable time)."""
    port = str(_free_udp_port())
    result, seconds = _timed(["--port", port, "--timeout", "30", "ping"])
    assert result.exit_code == 1 and seconds < 2, (seconds, result.output)
    message = str(result.exception)
    assert f"nothing listens for OSC at 127.0.0.1:{port}" in message
    assert "Start the server with `scorehost serve --bridge osc`" in message
    source = write_score(chorale, tmp_path / "in.mid")
    result, seconds = _timed(["--port", port, "--timeout", "30", *_edit(source, tmp_path / "o.mid")])
    assert result.exit_code == 1 and seconds < 2, (seconds, result.output)
    assert "nothing listens for OSC" in str(result.exception)


def test_client_gives_up_on_a_silent_osc_port_within_two_seconds(tmp_path, chorale):
    """Something holds the port but never answers (or a firewall drops the packets)."""
    source = write_score(chorale, tmp_path / "in.mid")
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as silent:
        silent.bind(("127.0.0.1", 0))
        base = ["--port", str(silent.getsockname()[1]), "--timeout", "30"]
        ping, ping_seconds = _timed([*base, "ping"])
        edit, edit_seconds = _timed([*base, *_edit(source, tmp_path / "o.mid")])
    for result, seconds in ((ping, ping_seconds), (edit, edit_seconds)):
        assert result.exit_code == 1 and 1.5 < seconds < 4, (seconds, result.output)
        message = str(result.exception)
        assert "no answer over OSC" in message and "in 2 s" in message
        assert "`scorehost serve --bridge osc`" in message


def test_client_says_when_the_server_runs_without_the_osc_bridge(host, monkeypatch):
    from scorehost.bridges.client import cli as client_cli
    from scorehost.bridges.http.server import HttpBridge
    from scorehost.core.settings import Settings

    from ...conftest import make_engine

    engine = make_engine(host, device="cpu")
    bridge = HttpBridge()
    bridge.start(engine, Settings.with_bridges([HttpBridge])(http_port=0))
    try:
        monkeypatch.setitem(client_cli.DEFAULT_PORTS, "http", bridge.port)
        result, seconds = _timed(["--port", str(_free_udp_port()), "ping"])
    finally:
        bridge.stop()
        engine.shutdown(timeout=2)
    assert result.exit_code == 1 and seconds < 2, (seconds, result.output)
    message = str(result.exception)
    assert f"A scorehost server answers HTTP at 127.0.0.1:{bridge.port}, without the OSC bridge" in message
    assert "`scorehost serve --bridge http --bridge osc`" in message and "--via http" in message


class FakeAbletonOsc:
    """AbletonOSC's clip and song addresses, replying to the sender's host at the reply port."""

    def __init__(self, reply_port: int):
        import threading

        from scorehost.bridges.osc import protocol as p

        self.p = p
        self.reply_port = reply_port
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.settimeout(0.1)
        self.port = self.sock.getsockname()[1]
        self.names = ["Lead", "Bass:low"]
        melody = [[72 + i % 3, i * 1.0, 1.0, 100, False] for i in range(16)]
        self.clips = {(0, 0): melody, (1, 0): [[40, 0.0, 4.0, 90, False], [41, 12.0, 4.0, 90, False]]}
        self.running = True
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self):
        while self.running:
            try:
                data, addr = self.sock.recvfrom(65535)
            except TimeoutError:
                continue
            for address, args in self.p.decode(data):
                reply = self._answer(address, args)
                if reply is not None:
                    self.sock.sendto(self.p.encode(address, *reply), (addr[0], self.reply_port))

    def _answer(self, address, args):
        if address == "/live/song/get/tempo":
            return [123.0]
        if address == "/live/song/get/signature_numerator":
            return [4]
        if address == "/live/song/get/signature_denominator":
            return [4]
        if address == "/live/track/get/name":
            return [args[0], self.names[args[0]]]
        if address == "/live/clip/get/notes":
            return [args[0], args[1], *[v for n in self.clips[(args[0], args[1])] for v in n]]
        if address == "/live/clip/remove/notes":
            track, clip, low, span, start, length = args
            self.clips[(track, clip)] = [
                n
                for n in self.clips[(track, clip)]
                if not (low <= n[0] < low + span and start <= n[1] < start + length)
            ]
        if address == "/live/clip/add/notes":
            values = args[2:]
            self.clips[(args[0], args[1])] += [list(values[i : i + 5]) for i in range(0, len(values), 5)]
        return None

    def close(self):
        self.running = False
        self.thread.join(2)
        self.sock.close()


def test_ableton_fill_reads_and_writes_clips_through_abletonosc(osc_server):
    bridge = osc_server()
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.bind(("127.0.0.1", 0))
        reply_port = probe.getsockname()[1]
    live = FakeAbletonOsc(reply_port)
    try:
        base = [
            "--port",
            str(bridge.port),
            "ableton-fill",
            "-m",
            "octave",
            "--context",
            "0:0",
            "--fill",
            "1:0:2-3",
        ]
        live_args = ["--live-port", str(live.port), "--live-reply-port", str(reply_port)]
        result = CliRunner().invoke(client, base + live_args)
        assert result.exit_code == 0, (result.output, result.exception)
        assert "track 1 slot 0 bars 2-3: 8 notes" in result.output
        deadline = time.monotonic() + 5  # the writes are datagrams Live does not acknowledge
        while len(live.clips[(1, 0)]) < 10 and time.monotonic() < deadline:
            time.sleep(0.01)
        bass = sorted((n[1], n[0]) for n in live.clips[(1, 0)])
        assert bass[0] == (0.0, 40) and bass[-1] == (12.0, 41)  # bars 1 and 4 kept
        assert [p for s, p in bass if 4 <= s < 12] == [60 + i % 3 for i in range(4, 12)]
        assert all(n[4] is False for n in live.clips[(1, 0)][2:])
        result = CliRunner().invoke(
            client, base + ["--live-port", "9", "--live-reply-port", str(reply_port), "--live-timeout", "0.3"]
        )
        assert "AbletonOSC control surface" in str(result.exception)
    finally:
        live.close()


def test_ableton_fill_sends_drum_tracks_as_drum_tracks():
    """Live's clips carry no drum flag: a track named like drums, or given with --drums, is sent
    as track=NAME:drums, so a multi-track model writes drum keys there."""
    from scorehost.bridges.client.ableton import ClipRef, FillRef, LiveOsc, fill

    class Recorder:  # stands in for the scorehost OSC client: records the edit it is sent
        def __init__(self):
            self.tracks = []

        def call(self, name, *args, timeout, on_reply=None):
            self.tracks.append([a for a in args if isinstance(a, str) and a.startswith("track=")])
            return []

    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.bind(("127.0.0.1", 0))
        reply_port = probe.getsockname()[1]
    ableton = FakeAbletonOsc(reply_port)
    ableton.names = ["Perc", "Drum Rack"]
    live = LiveOsc(port=ableton.port, reply_port=reply_port)
    scorehost = Recorder()
    try:
        for drums in (frozenset(), frozenset({0})):
            fill(live, scorehost, "mmm", [FillRef(1, 0, 1, 2)], [ClipRef(0, 0)], [], 5, drums=drums)
    finally:
        live.close()
        ableton.close()
    assert scorehost.tracks == [
        ["track=Perc", "track=Drum Rack:drums"],
        ["track=Perc:drums", "track=Drum Rack:drums"],
    ]
