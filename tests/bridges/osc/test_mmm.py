"""The multi-track model mmm end to end through a `scorehost serve` process: liblo's oscsend
fills bars of one track of a quartet, an inline clip gets a drum part back as notes, and
`scorehost client edit -m mmm` fills bars of a chorale (over OSC and over HTTP)."""

from __future__ import annotations

import shutil

import pytest
from click.testing import CliRunner

from scorehost.bridges.client.cli import client
from scorehost.bridges.client.osc import OscClient
from scorehost.core.score import Score, note_tuples
from scorehost.core.scoreio import read_score, write_score

from ...conftest import CHORALE, QUARTET, corpus_path
from ..serve_process import ServeProcess
from .test_liblo import Dump, _oscsend

needs_liblo = pytest.mark.skipif(
    not (shutil.which("oscsend") and shutil.which("oscdump")),
    reason="liblo-tools (oscsend, oscdump) is not installed: apt-get install liblo-tools",
)


class Server(ServeProcess):
    """`scorehost serve --bridge osc --bridge http` on free ports."""

    def __init__(self, folder):
        super().__init__(folder, ("osc", "http"))
        self.osc_port, self.http_port = self.ports["osc"], self.ports["http"]


@pytest.fixture(scope="module")
def server(mmm_host, tmp_path_factory):
    """One server for the module (mmm_host only checks that mmm's weights are there)."""
    running = Server(tmp_path_factory.mktemp("allowed"))
    yield running
    assert running.stop() == 0, running.lines


def _without(score: Score, track: int, start: int, end: int) -> Score:
    """The score with the notes of one track that start in [start, end) removed: a hole to fill."""
    tracks = list(score.tracks)
    kept = [n for n in tracks[track].notes if not start <= n.start < end]
    tracks[track] = tracks[track].model_copy(update={"notes": kept})
    return score.model_copy(update={"tracks": tracks})


def _assert_filled_only(before: Score, after: Score, track: int, start: int, end: int) -> None:
    """Notes were written in [start, end) of the track, and every other note is unchanged."""
    assert len(after.tracks) == len(before.tracks)
    for index, (old, new) in enumerate(zip(before.tracks, after.tracks, strict=True)):
        if index != track:
            assert note_tuples(new) == note_tuples(old), f"track {index} changed"
            continue
        outside = [n.key() for n in old.notes if not start <= n.start < end]
        assert sorted(n.key() for n in new.notes if not start <= n.start < end) == sorted(outside)
        written = [n for n in new.notes if start <= n.start < end]
        assert written, f"track {index} was not filled"
        assert all(n.end <= end for n in written)


@needs_liblo
def test_oscsend_fills_bars_5_to_8_of_the_viola_of_a_quartet_with_mmm(server, tmp_path):
    piece = read_score(corpus_path(QUARTET))
    track = 2  # region=2 counts tracks from 0: violin 1, violin 2, viola, cello
    bars = {b.number: b for b in piece.bars()}
    start, end = bars[5].start, bars[8].end
    source = write_score(_without(piece, track, start, end), server.folder / "quartet.mid")
    out = server.folder / "quartet-filled.mid"
    dump = Dump(tmp_path)
    try:
        args = ["q1", "model=mmm", f"in={source}", f"out={out}", f"region={track}:5-8", "seed=1"]
        _oscsend(server.osc_port, "/scorehost/edit", *args, f"reply={dump.port}")
        messages = dump.wait_for("/scorehost/done", 60)
    finally:
        dump.close()
    addresses = [a for a, _ in messages]
    assert addresses[0] == "/scorehost/accepted" and addresses[-1] == "/scorehost/done", (
        messages,
        server.lines,
    )
    assert "/scorehost/progress" in addresses and "/scorehost/variation" in addresses
    assert messages[-1][1][0] == "q1" and messages[-1][1][3] == str(out)
    _assert_filled_only(read_score(source), read_score(out), track, start, end)


@pytest.mark.parametrize("via", ["osc", "http"])
def test_scorehost_client_edit_with_mmm(server, via):
    """`scorehost client edit song.mid -o filled.mid -m mmm -r 1:2-3`: bars 2-3 of track 1."""
    chorale = read_score(corpus_path(CHORALE))
    bars = {b.number: b for b in chorale.bars()}
    start, end = bars[2].start, bars[3].end
    song = write_score(_without(chorale, 1, start, end), server.folder / f"song-{via}.mid")
    filled = server.folder / f"filled-{via}.mid"
    port = server.osc_port if via == "osc" else server.http_port
    result = CliRunner().invoke(
        client,
        ["--via", via, "--port", str(port), "--timeout", "60",
         "edit", str(song), "-o", str(filled), "-m", "mmm", "-r", "1:2-3", "--seed", "2"],
    )  # fmt: skip
    assert result.exit_code == 0, (result.output, result.exception, server.lines)
    assert f"wrote {filled}" in result.output
    _assert_filled_only(read_score(song), read_score(filled), 1, start, end)


def test_an_inline_clip_gets_a_new_drum_part_back_as_notes(server):
    """The Max for Live / TouchOSC way: a clip's notes inline, an empty track named drums (a drum
    track, as region=drums would add), and the written notes back in beats."""
    keys = [v for i in range(16) for v in (60 + (0, 4, 7)[i % 3], i * 0.5, 0.5, 80)]
    bass = [v for i in range(8) for v in (36 if i < 4 else 41, float(i), 1.0, 90)]
    out = server.folder / "clip-drums.mid"  # the file says whether the track went as drums
    replies: list = []
    with OscClient("127.0.0.1", server.osc_port) as osc:
        osc.call(
            "edit", "model=mmm", "track=Keys:4", *keys, "track=Bass:33", *bass, "track=drums",
            "length=8", "region=drums", "seed=5", f"out={out}",
            timeout=60, on_reply=lambda name, values: replies.append((name, values)),
        )  # fmt: skip
    chunks = [values for name, values in replies if name == "notes"]
    assert chunks and {(c[2], c[3]) for c in chunks} == {(2, "drums")}
    values = [v for c in chunks for v in c[6:]]
    hits = [values[i : i + 4] for i in range(0, len(values), 4)]
    assert hits and all(27 <= pitch <= 87 and 0 <= start < 8 for pitch, start, _, _ in hits)
    drums = read_score(out).tracks[2]
    assert drums.is_drum and sorted(n.pitch for n in drums.notes) == sorted(h[0] for h in hits)
