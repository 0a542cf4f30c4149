"""Real OSC peers: liblo's oscsend submits, oscdump shows the replies (Debian's liblo-tools)."""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from scorehost.core.scoreio import read_score, write_score

pytestmark = pytest.mark.skipif(
    not (shutil.which("oscsend") and shutil.which("oscdump")),
    reason="liblo-tools (oscsend, oscdump) is not installed: apt-get install liblo-tools",
)


def _free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Dump:
    """oscdump -L PORT in the background; lines() parses what it printed."""

    def __init__(self, tmp_path: Path):
        self.port = _free_udp_port()
        self.file = (tmp_path / f"oscdump-{self.port}.txt").open("w+")
        self.proc = subprocess.Popen(
            ["oscdump", "-L", str(self.port)], stdout=self.file, stderr=subprocess.STDOUT
        )
        time.sleep(0.3)

    def messages(self) -> list[tuple[str, list[str]]]:
        self.file.flush()
        found = []
        for line in Path(self.file.name).read_text().splitlines():
            match = re.match(r"^\S+ (/\S+) (\S*) ?(.*)$", line)
            if match:
                found.append((match.group(1), re.findall(r'"([^"]*)"|(\S+)', match.group(3))))
        return [(address, [a or b for a, b in args]) for address, args in found]

    def wait_for(self, address: str, timeout: float) -> list[tuple[str, list[str]]]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            messages = self.messages()
            if any(a in (address, "/scorehost/error") for a, _ in messages):
                return messages
            time.sleep(0.05)
        raise AssertionError(f"oscdump saw no {address} in {timeout} s: {self.messages()}")

    def close(self) -> None:
        self.proc.terminate()
        self.proc.wait(5)
        self.file.close()


def _oscsend(port: int, address: str, *args: str) -> None:
    subprocess.run(
        ["oscsend", "localhost", str(port), address, "s" * len(args), *args], check=True, timeout=10
    )


def test_oscsend_edits_a_midi_file_and_oscdump_shows_progress_and_done(osc_server, chorale, tmp_path):
    bridge = osc_server()
    source = write_score(chorale, tmp_path / "in.mid")
    out = tmp_path / "out.mid"
    dump = Dump(tmp_path)
    try:
        args = ["t1", "model=slow", "seconds=0.5", f"in={source}", f"out={out}", "region=tenor:3-4"]
        _oscsend(bridge.port, "/scorehost/edit", *args, f"reply={dump.port}")
        messages = dump.wait_for("/scorehost/done", 20)
        addresses = [a for a, _ in messages]
        assert addresses[0] == "/scorehost/accepted" and addresses[-1] == "/scorehost/done", messages
        assert "/scorehost/progress" in addresses
        assert messages[-1][1][0] == "t1" and messages[-1][1][3] == str(out)
        assert read_score(out) == read_score(source)
        _oscsend(
            bridge.port,
            "/scorehost/edit",
            "t2",
            "model=echo",
            "in=/etc/hosts.mid",
            "region=1",
            f"reply={dump.port}",
        )
        error = dump.wait_for("/scorehost/error", 10)[-1]
        assert error[1][:3] == ["t2", "", "path_not_allowed"]
    finally:
        dump.close()


def _serve(*args: str) -> tuple[subprocess.Popen, int]:
    port = _free_udp_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "scorehost.core", "serve", "--bridge", "osc", "--osc-port", str(port), *args],
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "SCOREHOST_PLUGINS": ""},
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        line = proc.stderr.readline()
        if "listening on udp://127.0.0.1:" in line:
            return proc, port
        if proc.poll() is not None:
            break
    proc.kill()
    raise AssertionError("scorehost serve did not start")


def test_scorehost_serve_with_a_real_model_end_to_end(chorale, tmp_path):
    """`scorehost serve --bridge osc` fills four bars of a chorale with the real model."""
    from scorehost.core.host import Host

    models = Host(env={"SCOREHOST_PLUGINS": ""}).models()
    if "deepbach" not in models:
        pytest.skip("no real model registered")
    try:
        models["deepbach"].load("cpu")
    except Exception as exc:  # e.g. weights not shipped in this checkout
        pytest.skip(f"the real model cannot load: {type(exc).__name__}: {exc}")
    source = write_score(chorale, tmp_path / "in.mid")
    out = tmp_path / "out.mid"
    proc, port = _serve("--allow-dir", str(tmp_path), "--device", "cpu")
    dump = Dump(tmp_path)
    try:
        args = ["e2e", "model=deepbach", f"in={source}", f"out={out}", "region=alto,tenor:2-5", "seed=1"]
        _oscsend(port, "/scorehost/edit", *args, f"reply={dump.port}")
        messages = dump.wait_for("/scorehost/done", 120)
        assert messages[-1][0] == "/scorehost/done", messages[-1]
    finally:
        dump.close()
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(20) == 0
    result, before = read_score(out), read_score(source)
    bars = {b.number: b for b in chorale.bars()}
    start, end = bars[2].start, bars[5].end
    for index, (old, new) in enumerate(zip(before.tracks, result.tracks, strict=True)):
        inside = index in (1, 2)
        keep_old = sorted(n.key() for n in old.notes if not (inside and start <= n.start < end))
        keep_new = sorted(n.key() for n in new.notes if not (inside and start <= n.start < end))
        assert keep_old == keep_new, f"track {index} changed outside the region"
        if inside:
            written = [n for n in new.notes if start <= n.start < end]
            assert written and all(start <= n.start and n.end <= end for n in written)


# ---- the documented replies are what the server sends ------------------------------------

_DOCS = Path(__file__).resolve().parents[3] / "docs" / "osc.md"


def _documented_type_tags() -> dict[str, str]:
    """Address -> type tags of the oscdump example in docs/osc.md."""
    text = _DOCS.read_text()
    block = text.split("`oscdump` then prints", 1)[1].split("```", 2)[1]
    found = dict(re.findall(r"^(/scorehost/\S+) (\w+) ", block, re.MULTILINE))
    assert {"/scorehost/accepted", "/scorehost/done"} <= set(found), block
    return found


def _documented_arguments() -> dict[str, list[str]]:
    """Address -> argument names of each reply in the requests table of docs/osc.md."""
    found = {}
    for address, names in re.findall(r"`(/scorehost/[a-z/]+) ([a-z_ ]+)`", _DOCS.read_text()):
        found.setdefault(address, names.split())
    return found


def _sent_type_tags(dump: Dump) -> dict[str, set[str]]:
    dump.file.flush()
    sent: dict[str, set[str]] = {}
    for line in Path(dump.file.name).read_text().splitlines():
        match = re.match(r"^\S+ (/scorehost/\S+) (\w*)", line)
        if match:
            sent.setdefault(match.group(1), set()).add(match.group(2))
    return sent


def test_documented_type_tags_and_arguments_are_what_the_server_sends(osc_server, chorale, tmp_path):
    """docs/osc.md's oscdump example and reply signatures, against what liblo's oscdump gets."""
    bridge = osc_server()
    source = write_score(chorale, tmp_path / "in.mid")
    dump = Dump(tmp_path)
    reply = f"reply={dump.port}"
    try:
        _oscsend(bridge.port, "/scorehost/ping", "t0", reply)
        _oscsend(bridge.port, "/scorehost/models", "t1", reply)
        edit = [
            "t2",
            "model=slow",
            "seconds=0.3",
            f"in={source}",
            f"out={tmp_path / 'out.mid'}",
            "region=alto:3-4",
            "seed=1",  # as in the example: a seed above 2^31 goes as int64 (h), as documented
        ]
        _oscsend(bridge.port, "/scorehost/edit", *edit, reply)
        dump.wait_for("/scorehost/done", 20)
        _oscsend(
            bridge.port,
            "/scorehost/edit",
            "t3",
            "model=slow",
            "seconds=20",
            f"in={source}",
            "region=1",
            reply,
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            accepted = [args for address, args in dump.messages() if address == "/scorehost/accepted"]
            if len(accepted) == 2:
                break
            time.sleep(0.05)
        _oscsend(bridge.port, "/scorehost/cancel", "t4", f"job={accepted[1][1]}", reply)
        dump.wait_for("/scorehost/error", 10)
        sent = _sent_type_tags(dump)
    finally:
        dump.close()
    for address, tags in _documented_type_tags().items():
        assert sent.get(address) == {tags}, (
            f"docs/osc.md shows {address} {tags}; the server sent {sent.get(address)}"
        )
    documented = _documented_arguments()
    seen = set(sent) & set(documented)
    assert {"/scorehost/pong", "/scorehost/model", "/scorehost/models/end", "/scorehost/cancelled"} <= seen
    for address in seen:
        for tags in sent[address]:
            assert len(tags) == len(documented[address]), (
                f"docs/osc.md names {address} {' '.join(documented[address])}; the server sent {tags}"
            )


def _oscsend_typed(port: int, address: str, types: str, *args: str) -> None:
    subprocess.run(["oscsend", "localhost", str(port), address, types, *args], check=True, timeout=10)


def test_nan_infinity_and_deep_nesting_from_oscsend_are_each_one_bad_request(osc_server, tmp_path):
    """Numbers that are not finite, as OSC floats or doubles in a note list or as option text,
    and an option nested past the limit: each is one error naming what is wrong, never
    'internal' (json.loads reads NaN and Infinity, and a deep list raised RecursionError)."""
    bridge = osc_server()
    dump = Dump(tmp_path)
    reply = f"reply={dump.port}"
    note = ["model=echo", "track=a"]
    cases = {  # tag -> (types, arguments, what the message says)
        "n1": ("sssffff", [*note, "region=a", "nan", "0", "1", "90"], "not finite"),
        "n2": ("sssfdff", [*note, "region=a", "60", "inf", "1", "90"], "not finite"),
        "n3": ("sssfffd", [*note, "region=a", "60", "0", "1", "-inf"], "not finite"),
        "o1": ("sssffffs", [*note, "region=a", "60", "0", "1", "90", "temperature=NaN"], "option temperature: nan is not a finite"),
        "o2": ("sssffffs", [*note, "region=a", "60", "0", "1", "90", "option=seed=-Infinity"], "option seed: -inf is not a finite"),
        "o3": ("sssffffs", [*note, "region=a", "60", "0", "1", "90", "x=[1e999]"], "option x: inf is not a finite"),
        "d1": ("sssffffs", [*note, "region=a", "60", "0", "1", "90", "x=" + "[" * 5000 + "]" * 5000], "more than 32 deep"),
        "d2": ("sssffffs", [*note, "region=a", "60", "0", "1", "90", "o=x=" + '{"a":' * 2000 + "1" + "}" * 2000], "more than 32 deep"),
        "s1": ("sssffffs", ["model=slow", "track=a", "region=a", "60", "0", "1", "90", "seconds=NaN"], "option seconds: nan"),
    }  # fmt: skip
    try:
        for tag, (types, args, _) in cases.items():
            _oscsend_typed(bridge.port, "/scorehost/edit", "s" + types + "s", tag, *args, reply)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            errors = {args[0]: args for address, args in dump.messages() if address == "/scorehost/error"}
            if len(errors) == len(cases):
                break
            time.sleep(0.05)
        finals = [
            args[0] for address, args in dump.messages() if address in ("/scorehost/error", "/scorehost/done")
        ]
        _oscsend(bridge.port, "/scorehost/ping", "alive", reply)
        deadline = time.monotonic() + 10  # wait_for returns at any error, and the errors are in
        while time.monotonic() < deadline and not any(a == "/scorehost/pong" for a, _ in dump.messages()):
            time.sleep(0.05)
        pong = [(a, args) for a, args in dump.messages() if a == "/scorehost/pong"]
    finally:
        dump.close()
    assert sorted(finals) == sorted(cases), finals  # one final reply each, every one an error
    for tag, (_, _, says) in cases.items():
        assert errors[tag][2] == "bad_request", errors[tag]
        assert says in errors[tag][3], errors[tag]
    assert pong and pong[-1][1][:1] == ["alive"], "the server did not answer a ping after the burst"
