"""The OSC bridge over real UDP/TCP sockets on loopback: requests, results, errors, bursts, limits."""

from __future__ import annotations

import socket
import threading
import time
from pathlib import Path

import pytest

from scorehost.bridges.client.osc import OscError
from scorehost.bridges.osc import protocol as p
from scorehost.bridges.osc.server import slip_decode, slip_encode
from scorehost.core.errors import ScorehostError
from scorehost.core.scoreio import read_score, write_score

from ...conftest import RAY_SLOWER, on_ray


def _collect(client, tag, timeout=20):
    return list(client.replies(tag, timeout=timeout))


def test_ping_and_models(osc_server, client_for):
    bridge = osc_server()
    assert bridge.udp.getsockname()[0] == "127.0.0.1"  # loopback unless told otherwise
    client = client_for(bridge)
    version, count = client.call("ping")
    assert count >= 4 and version
    listed = []
    end = client.call("models", on_reply=lambda name, values: name == "model" and listed.append(values))
    assert end == [len(listed)]
    by_id = {values[2]: values for values in listed}
    assert "pitch_range" in by_id["echo"][4].split(",") and "seconds" in by_id["slow"][5].split(",")


def test_inline_notes_come_back_in_chunks_that_fit_a_datagram(osc_server, client_for):
    client = client_for(osc_server())
    melody = []
    for i in range(600):  # 600 notes: 2,400 numbers, a 20 kB request, above python-osc's 8 kB default
        melody += [60 + i % 12, i * 0.25, 0.25, 90]
    tag = client.send(
        "edit", "model=octave", "track=melody", *melody, "track=bass:32", "region=bass:all", "notes=regions"
    )
    replies = _collect(client, tag)
    names = [name for name, _ in replies]
    assert names[0] == "accepted" and names[-1] == "done", replies[-1]
    chunks = [values for name, values in replies if name == "notes"]
    assert [c[4:6] for c in chunks] == [[0, 3], [1, 3], [2, 3]]
    assert {c[2] for c in chunks} == {1} and chunks[0][3] == "bass"
    values = [v for c in chunks for v in c[6:]]
    notes = [tuple(values[i : i + 4]) for i in range(0, len(values), 4)]
    assert notes[:2] == [(48, 0.0, 0.25, 90), (49, 0.25, 0.25, 90)] and len(notes) == 600
    for name, values in replies:
        assert len(p.encode(p.address(name), tag, *values)) <= p.SAFE_DATAGRAM


def test_edit_a_midi_file_fills_the_bars_and_keeps_the_rest(osc_server, client_for, chorale, tmp_path):
    source = write_score(chorale, tmp_path / "chorale.mid")
    client = client_for(osc_server())
    out = tmp_path / "filled.mid"
    done = client.call("edit", "model=octave", f"in={source}", f"out={out}", "region=bass:2-3", "seed=4")
    assert done[1:3] == [1, str(out)]
    result, before = read_score(out), read_score(source)
    bars = {b.number: b for b in chorale.bars()}
    start, end = bars[2].start, bars[3].end
    for index, (old, new) in enumerate(zip(before.tracks, result.tracks, strict=True)):
        outside_old = sorted(n.key() for n in old.notes if not (index == 3 and start <= n.start < end))
        outside_new = sorted(n.key() for n in new.notes if not (index == 3 and start <= n.start < end))
        assert outside_old == outside_new
    written = sorted(n.pitch for n in result.tracks[3].notes if start <= n.start < end)
    assert written == sorted(n.pitch - 12 for n in before.tracks[0].notes if start <= n.start < end)
    # without out=, the result goes next to the input under a new name, never over a file
    done = client.call("edit", "model=echo", f"in={source}", "region=alto:1")
    assert done[2] == str(tmp_path / "chorale-scorehost.mid")
    done = client.call("edit", "model=echo", f"in={source}", "region=alto:1", "variations=2")
    assert done[1:3] == [2, str(tmp_path / "chorale-scorehost-1.mid")]


def test_paths_outside_the_allowed_folders_and_overwrites_are_refused(
    osc_server, client_for, chorale, tmp_path
):
    source = write_score(chorale, tmp_path / "in.mid")
    outside = tmp_path.parent / f"{tmp_path.name}-outside"
    outside.mkdir()
    write_score(chorale, outside / "secret.mid")
    (tmp_path / "link.mid").symlink_to(outside / "secret.mid")
    (tmp_path / "linked").symlink_to(outside, target_is_directory=True)
    client = client_for(osc_server())
    for args, code in [
        (["in=/etc/passwd.mid"], "path_not_allowed"),
        ([f"in={tmp_path}/../in.mid"], "path_not_allowed"),
        ([f"in={source}", "out=/tmp/elsewhere/out.mid"], "path_not_allowed"),
        ([f"in={source}", f"out={source}"], "path_not_allowed"),
        ([f"in={source}", f"out={tmp_path}/x.txt"], "bad_request"),
        ([f"in={tmp_path}/link.mid"], "path_not_allowed"),  # a link leading out
        ([f"in={source}", f"out={tmp_path}/linked/out.mid"], "path_not_allowed"),
    ]:
        with pytest.raises(OscError) as caught:
            client.call("edit", "model=echo", "region=alto:1", *args)
        assert caught.value.code == code, (args, caught.value)
    client_none = client_for(osc_server(allowed_dirs=[]))
    with pytest.raises(OscError, match="reads and writes no files"):
        client_none.call("edit", "model=echo", f"in={source}", "region=alto:1")


MALFORMED = [
    (b"garbage", "malformed"),
    (b"", "malformed"),
    (b"/scorehost/edit\x00\x00\x00\x00,i\x00\x00\x00\x01", "malformed"),  # truncated
    (p.encode("/scorehost/nothing"), "unknown_address"),
    (p.encode("/other/app", 1), "unknown_address"),
    (p.encode("/scorehost/edit", 1), "bad_request"),
    (p.encode("/scorehost/edit", 1, "model=echo"), "bad_request"),
    (p.encode("/scorehost/edit", 1, "model=echo", 60, 0.0, 1.0, 90), "bad_request"),
    (p.encode("/scorehost/edit", 1, "model=echo", "track=a", 60, 0.0, 1.0), "bad_request"),
    (p.encode("/scorehost/edit", 1, "model=echo", "track=a", 200, 0.0, 1.0, 90, "region=a:1"), "bad_request"),
    (
        p.encode("/scorehost/edit", 1, "model=nope", "track=a", 60, 0.0, 1.0, 90, "region=a:1"),
        "unknown_model",
    ),
    (p.encode("/scorehost/edit", 1, "model=echo", "track=a", 60, 0.0, 1.0, 90, "region=a:9"), "bad_request"),
    (
        p.encode("/scorehost/edit", 1, "model=echo", "track=a", 60, 0, 1, 90, "region=a:1", "polyphony=x"),
        "bad_request",
    ),
    (
        p.encode("/scorehost/edit", 1, "model=echo", "track=a", 60, 0, 1, 90, "region=a", "c=key:H-major"),
        "bad_request",
    ),
    (
        p.encode("/scorehost/edit", 1, "model=slow", "track=a", 60, 0, 1, 90, "region=a", "c=range:a:1-2"),
        "unsupported_constraint",
    ),
    (
        p.encode("/scorehost/edit", 1, "model=echo", "track=a", 60, 0, 1, 90, "region=a", "meter=5/3"),
        "bad_request",
    ),
    (p.encode("/scorehost/edit", 1, "model=echo", "unit=bars"), "bad_request"),
    # a note at beat 100,000 made a score of that length (1.5 GB for one note, #11)
    (
        p.encode("/scorehost/edit", 1, "model=echo", "track=a", 60, 100_000.0, 1.0, 90, "region=a"),
        "too_large",
    ),
    (
        p.encode("/scorehost/edit", 1, "model=echo", "track=a", 60, 0, 1, 90, "region=a", "length=1e9"),
        "bad_request",
    ),
    (p.encode("/scorehost/edit", 1, b"blob"), "bad_request"),
    (p.encode("/scorehost/edit", 1, True), "bad_request"),
    (p.encode("/scorehost/status", 1), "bad_request"),
    (p.encode("/scorehost/status", 1, "job=ffff"), "unknown_job"),
    (p.encode("/scorehost/cancel", 1, "job=ffff"), "unknown_job"),
    (p.encode("/scorehost/live/fill", 1, "region=ch1:1"), "not_running"),
    (p.encode("/scorehost/ping", 1, "verbose=1"), "bad_request"),
    (p.encode("/scorehost/cancel", 1, "job=ffff", "track=a", 60, 0, 1, 90), "bad_request"),
    (
        p.encode("/scorehost/edit", 1, "model=echo", "track=a", 60, 0, 1, 90, "region=a", "play=1"),
        "bad_request",
    ),
    (
        p.encode("/scorehost/edit", 1, "model=echo", "track=a", 60, 0, 1, 90, "region=a", "format=mid"),
        "bad_request",
    ),
]


@pytest.mark.parametrize(("datagram", "code"), MALFORMED)
def test_every_malformed_message_gets_an_error_reply(osc_server, datagram, code):
    bridge = osc_server()
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.settimeout(5)
        sock.sendto(datagram, ("127.0.0.1", bridge.port))
        address, args = p.decode(sock.recvfrom(65535)[0])[0]
    assert address == "/scorehost/error", args
    assert args[2] == code, args


BURST = 2_000


def test_a_burst_of_2000_mixed_requests_gets_one_final_reply_each(osc_server, client_for, chorale, tmp_path):
    """2,000 requests sent as fast as a socket sends them: edits of one file (results beside it,
    each under its own free name) and of inline notes, bad arguments, unknown models and
    addresses. Each gets exactly one final reply (done for the good, error for the rest), none
    is dropped, and the server answers afterwards. Replies are read while the burst goes out,
    as a client does, so the client's own socket buffer is not what is tested."""
    bridge = osc_server()
    client = client_for(bridge)
    source = write_score(chorale, tmp_path / "burst.mid")
    kinds = {}
    finals: dict[int, list[list]] = {}
    stop = threading.Event()

    def read() -> None:
        client.sock.settimeout(0.2)
        while not stop.is_set():
            try:
                data = client.sock.recvfrom(65535)[0]
            except TimeoutError:
                continue
            for address, args in p.decode(data):
                if address in ("/scorehost/done", "/scorehost/error"):
                    finals.setdefault(args[0], []).append([address.rsplit("/", 1)[1], *args[1:]])

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    started = time.perf_counter()
    for i in range(BURST):
        kind = ("ok", "bad-args", "garbage", "unknown-model", "ok-inline", "ok-file")[i % 6]
        kinds[i] = kind
        if kind == "ok":
            client.send("edit", "model=echo", "track=a", 60, 0.0, 1.0, 90, "region=a:1", "notes=none", tag=i)
        elif kind == "ok-inline":
            client.send("edit", "model=octave", "track=a", 60, 0.0, 1.0, 90, "track=b", "region=b:1", tag=i)
        elif kind == "ok-file":
            client.send("edit", "model=echo", f"in={source}", "region=bass:2", "notes=none", tag=i)
        elif kind == "bad-args":
            client.send("edit", "model=echo", "region=a:1", 7, tag=i)
        elif kind == "unknown-model":
            client.send("edit", "model=nope", "track=a", 60, 0.0, 1.0, 90, "region=a:1", tag=i)
        else:
            client.sock.sendto(p.encode("/scorehost/bogus", i), ("127.0.0.1", bridge.port))
    slower = RAY_SLOWER if on_ray() else 1
    deadline = time.monotonic() + 60 * slower
    while len(finals) < BURST and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(0.5)  # a second final reply to any of them would have come by now
    stop.set()
    reader.join(5)
    took = time.perf_counter() - started
    assert sorted(finals) == list(range(BURST)), f"{BURST - len(finals)} without a final reply"
    assert all(len(v) == 1 for v in finals.values()), {k: v for k, v in finals.items() if len(v) != 1}
    for i, kind in kinds.items():
        assert finals[i][0][0] == ("done" if kind.startswith("ok") else "error"), (i, kind, finals[i])
    written = [finals[i][0][3] for i, kind in kinds.items() if kind == "ok-file"]
    assert len(set(written)) == len(written) == sum(k == "ok-file" for k in kinds.values())  # a file each
    assert sorted(f.name for f in tmp_path.glob("burst-scorehost*.mid")) == sorted(
        Path(w).name for w in written
    )
    assert read_score(written[-1]) == read_score(source)
    assert took < 45 * slower, took
    # ... and the server still answers afterwards; no stray replies are left over
    assert client.call("ping")[1] >= 4
    client.sock.settimeout(0.3)
    with pytest.raises(TimeoutError):
        client.sock.recvfrom(65535)


def test_progress_cancel_and_failures(osc_server, client_for):
    client = client_for(osc_server())
    tag = client.send("edit", "model=slow", "seconds=3", "track=a", 60, 0.0, 1.0, 90, "region=a:1")
    replies = client.replies(tag, timeout=20)
    name, (job_id,) = next(replies)
    assert name == "accepted"
    name, values = next(replies)
    assert name == "progress" and values[0] == job_id and 0 <= values[1] < 1
    state = client.call("status", f"job={job_id}")
    assert state[0] == job_id and state[2] == "running"
    assert client.call("cancel", f"job={job_id}")[0] == job_id
    rest = list(replies)
    assert rest[-1][0] == "error" and rest[-1][1][:2] == [job_id, "cancelled"]
    with pytest.raises(OscError) as caught:
        client.call("edit", "model=fails", "track=a", 60, 0.0, 1.0, 90, "region=a:1")
    assert caught.value.code == "model_error" and caught.value.job_id
    assert "divided by zero" in caught.value.message


def test_replies_go_to_the_reply_port_and_a_token_is_checked(osc_server, client_for):
    bridge = osc_server(token="s3cret")
    client = client_for(bridge)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as listener:
        listener.bind(("127.0.0.1", 0))
        listener.settimeout(5)
        port = listener.getsockname()[1]
        client.sock.sendto(p.encode("/scorehost/models", "t", f"reply={port}"), ("127.0.0.1", bridge.port))
        address, args = p.decode(listener.recvfrom(65535)[0])[0]
        assert address == "/scorehost/error" and args[2] == "unauthorized"
        client.sock.sendto(p.encode("/scorehost/ping", "t2", f"reply={port}"), ("127.0.0.1", bridge.port))
        assert p.decode(listener.recvfrom(65535)[0])[0][0] == "/scorehost/pong"  # ping needs no token
    client.token = "s3cret"
    assert client.call("models")[0] >= 4


def test_tcp_with_slip_framing(osc_server):
    bridge = osc_server(osc_tcp=True)
    assert "tcp://" in bridge.address()
    assert slip_decode(slip_encode(b"a\xc0b\xdbc")[1:-1]) == b"a\xc0b\xdbc"
    notes = [v for i in range(3000) for v in (60 + i % 5, i * 0.5, 0.5, 80)]  # 60 kB: more than UDP holds
    with socket.create_connection(("127.0.0.1", bridge.port), timeout=10) as conn:
        conn.sendall(
            slip_encode(
                p.encode("/scorehost/edit", "x", "model=octave", "track=a", *notes, "track=b", "region=b:all")
            )
        )
        conn.sendall(slip_encode(b"junk"))
        buffer, messages = b"", []
        while not any(a == "/scorehost/error" for a, _ in messages) or not any(
            a == "/scorehost/done" for a, _ in messages
        ):
            buffer += conn.recv(65536)
            *frames, buffer = buffer.split(b"\xc0")
            messages += [m for f in frames if f for m in p.decode(slip_decode(f))]
    chunks = [args for address, args in messages if address == "/scorehost/notes"]
    assert sum((len(c) - 7) // 4 for c in chunks) == 3000


def test_tcp_port_held_by_another_program_is_one_clear_error(osc_server):
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen(1)
        port = holder.getsockname()[1]
        with pytest.raises(ScorehostError, match=f"could not listen on 127.0.0.1:{port} .*is the port taken"):
            osc_server(osc_port=port, osc_tcp=True)
    for _ in range(5):  # port 0 finds a port free for both, every time
        bridge = osc_server(osc_tcp=True)
        assert bridge.tcp is not None and bridge.tcp.getsockname()[1] == bridge.port


def test_bundles_and_concurrent_clients(osc_server, client_for):
    bridge = osc_server()
    from pythonosc.osc_bundle_builder import IMMEDIATELY, OscBundleBuilder
    from pythonosc.osc_message_builder import OscMessageBuilder

    bundle = OscBundleBuilder(IMMEDIATELY)
    for tag in ("a", "b"):
        message = OscMessageBuilder("/scorehost/ping")
        message.add_arg(tag)
        bundle.add_content(message.build())
    client = client_for(bridge)
    client.sock.sendto(bundle.build().dgram, ("127.0.0.1", bridge.port))
    assert [n for n, _ in client.replies("a", final={"pong"})] == ["pong"]
    assert [n for n, _ in client.replies("b", final={"pong"})] == ["pong"]
    errors = []

    def worker():
        try:
            c = client_for(bridge)
            for _ in range(20):
                c.call("edit", "model=echo", "track=a", 60, 0.0, 1.0, 90, "region=a:1")
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert not errors


def test_mutated_datagrams_each_get_a_final_reply_and_the_server_survives(osc_server):
    import random

    bridge = osc_server()
    seeds = [
        p.encode("/scorehost/ping", 1),
        p.encode("/scorehost/edit", 2, "model=echo", "track=a", 60, 0.0, 1.0, 90, "region=a:1"),
        p.encode("/scorehost/models", 3, "notes=all"),
    ]
    rng = random.Random(0)
    finals = {"/scorehost/pong", "/scorehost/models/end", "/scorehost/done", "/scorehost/error"}
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.settimeout(5)
        for _ in range(300):
            data = bytearray(rng.choice(seeds))
            for _ in range(rng.randint(1, 4)):
                position = rng.randrange(len(data))
                action = rng.random()
                if action < 0.5:
                    data[position] = rng.randrange(256)
                elif action < 0.75:
                    del data[position]
                else:
                    data[position:position] = bytes([rng.randrange(256)])
            sock.sendto(bytes(data), ("127.0.0.1", bridge.port))
            seen = set()
            while not seen & finals:
                try:
                    message, _ = sock.recvfrom(65535)
                except TimeoutError:
                    raise AssertionError(f"no final reply to {bytes(data)!r}; saw {seen}") from None
                seen |= {address for address, _ in p.decode(message)}
        sock.sendto(p.encode("/scorehost/ping", "alive"), ("127.0.0.1", bridge.port))
        while True:
            address, args = p.decode(sock.recvfrom(65535)[0])[0]
            if args[:1] == ["alive"]:
                assert address == "/scorehost/pong"
                break


def test_two_edits_at_once_never_share_an_output_file(osc_server, client_for, chorale, tmp_path):
    """An output file is made only when its job is done, so the name is held meanwhile: a second
    edit naming the same out= is refused at once (it failed with cannot_write when the first
    had written it), and edits beside one input get a free name each."""
    client = client_for(osc_server())
    source = write_score(chorale, tmp_path / "in.mid")
    out = tmp_path / "out.mid"
    slow = ("edit", "model=slow", "seconds=1", f"in={source}", "region=bass:2")
    first = client.send(*slow, f"out={out}")
    second = client.send(*slow, f"out={out}")
    beside = [client.send(*slow, "notes=none") for _ in range(3)]
    with pytest.raises(OscError, match="is the output of another request still running"):
        client.call(*slow, f"out={out}")
    finals = {}
    for tag in (first, second, *beside):
        replies = _collect(client, tag)
        finals[tag] = replies[-1]
    # the pool may handle either first: one writes out.mid, the other is refused
    done, refused = sorted((finals[first], finals[second]), key=lambda reply: reply[0] != "done")
    assert done[0] == "done" and done[1][2] == str(out), done
    assert refused[0] == "error" and refused[1][1] == "path_not_allowed", refused
    names = sorted(finals[tag][1][2] for tag in beside)
    assert [finals[tag][0] for tag in beside] == ["done"] * 3
    assert names == sorted(
        str(tmp_path / n) for n in ("in-scorehost.mid", "in-scorehost-2.mid", "in-scorehost-3.mid")
    )
    assert all(read_score(name) == read_score(source) for name in names)
