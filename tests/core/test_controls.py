"""A MIDI file's controller data (sustain pedal, volume, pan, expression, pitch bends,
aftertouch) survives reading, writing and an edit by any model, at the same tick, channel and
value (#13)."""

from __future__ import annotations

import random

import mido
import pytest
from pydantic import ValidationError

from scorehost.core.engine import Engine
from scorehost.core.midifile import score_to_midi
from scorehost.core.regions import merge_result
from scorehost.core.requests import EditRequest, Region
from scorehost.core.score import Control, Note, Score, Track
from scorehost.core.scoreio import read_score, write_score

from .test_cli import scorehost
from .test_host import needs_example

BAR = 1920
CHANNELS = (2, 5)  # not the channels the writer would pick, so a lost channel shows
REGION = (BAR, 3 * BAR)  # --region 1:2-3: bars 2 and 3 of track 1, ticks [1920, 5760)
_CONTROL_TYPES = ("control_change", "pitchwheel", "aftertouch", "polytouch")


def _producer_midi(path, seed: int) -> None:
    """Two tracks of four bars as a producer's DAW writes them: volume, pan and expression at
    the start, the sustain pedal pressed where notes start and lifted before the next bar, pitch
    bends, channel and polyphonic aftertouch, with the notes played on top."""
    rng = random.Random(seed)
    midi = mido.MidiFile(type=1, ticks_per_beat=480)
    midi.tracks.append(
        mido.MidiTrack(
            [
                mido.MetaMessage("time_signature", numerator=4, denominator=4),
                mido.MetaMessage("set_tempo", tempo=mido.bpm2tempo(96)),
            ]
        )
    )
    for number, (name, program, channel) in enumerate(
        zip(["Piano", "Strings"], [0, 48], CHANNELS, strict=True)
    ):
        events: list[tuple[int, int, mido.Message]] = []  # (tick, order, message)
        events += [(0, 0, mido.Message("program_change", channel=channel, program=program))]
        for control, value in ((7, rng.randrange(60, 128)), (10, rng.randrange(128)), (11, 100)):
            events.append(
                (0, 1, mido.Message("control_change", channel=channel, control=control, value=value))
            )
        low = 60 - 12 * number
        for bar in range(4):
            start = bar * BAR
            events.append((start, 1, mido.Message("control_change", channel=channel, control=64, value=127)))
            events.append(
                (start + BAR - 10, 1, mido.Message("control_change", channel=channel, control=64, value=0))
            )
            for step in range(4):
                tick = start + step * 480
                pitch = low + rng.randrange(12)
                events.append(
                    (
                        tick,
                        2,
                        mido.Message("note_on", channel=channel, note=pitch, velocity=rng.randrange(40, 120)),
                    )
                )
                events.append(
                    (tick + 240, 1, mido.Message("aftertouch", channel=channel, value=rng.randrange(128)))
                )
                events.append(
                    (
                        tick + 300,
                        1,
                        mido.Message("polytouch", channel=channel, note=pitch, value=rng.randrange(128)),
                    )
                )
                events.append(
                    (tick + 470, 0, mido.Message("note_off", channel=channel, note=pitch, velocity=0))
                )
            for k in range(8):  # a bend up and back in each bar
                bend = rng.randrange(-8192, 8192) if k < 7 else 0
                events.append(
                    (start + 960 + 60 * k, 1, mido.Message("pitchwheel", channel=channel, pitch=bend))
                )
        track = mido.MidiTrack([mido.MetaMessage("track_name", name=name)])
        now = 0
        for tick, _order, message in sorted(events, key=lambda e: (e[0], e[1])):
            track.append(message.copy(time=tick - now))
            now = tick
        midi.tracks.append(track)
    midi.save(str(path))


def _controls(path) -> dict[int, list[tuple]]:
    """Each channel's controller events in file order, as (tick, type, number, value)."""
    found: dict[int, list[tuple]] = {}
    for track in mido.MidiFile(str(path)).tracks:
        now = 0
        for message in track:
            now += message.time
            if message.type in _CONTROL_TYPES:
                number = getattr(message, "control", getattr(message, "note", None))
                value = message.pitch if message.type == "pitchwheel" else message.value
                found.setdefault(message.channel, []).append((now, message.type, number, value))
    return found


def _notes(path) -> dict[int, list[tuple[int, int, int, int]]]:
    """Each channel's notes as (start, pitch, duration, velocity), sorted."""
    found: dict[int, list[tuple[int, int, int, int]]] = {}
    for track in mido.MidiFile(str(path)).tracks:
        now, sounding = 0, {}
        for message in track:
            now += message.time
            if message.type == "note_on" and message.velocity:
                sounding[(message.channel, message.note)] = (now, message.velocity)
            elif message.type in ("note_on", "note_off") and (message.channel, message.note) in sounding:
                start, velocity = sounding.pop((message.channel, message.note))
                found.setdefault(message.channel, []).append((start, message.note, now - start, velocity))
    return {channel: sorted(notes) for channel, notes in found.items()}


def _outside(notes, span):
    return [n for n in notes if not span[0] <= n[0] < span[1]]


def _assert_edit_kept_the_controls(source, out):
    before, after = _controls(source), _controls(out)
    assert set(before) == set(CHANNELS) and all(len(before[c]) > 50 for c in CHANNELS)
    assert after == before  # every event, at its tick, on its channel, with its value, in order
    old, new = _notes(source), _notes(out)
    assert set(new) == set(CHANNELS)
    assert new[CHANNELS[0]] == old[CHANNELS[0]]  # the track outside the region, note for note
    assert _outside(new[CHANNELS[1]], REGION) == _outside(old[CHANNELS[1]], REGION)


@pytest.mark.parametrize("seed", [1, 2])
def test_controls_survive_an_edit_by_mmm(tmp_path, seed):
    source = tmp_path / "producer.mid"
    _producer_midi(source, seed)
    out = tmp_path / "out.mid"
    done = scorehost(
        "edit", str(source), "-o", str(out), "--model", "mmm", "--region", "1:2-3",
        "--seed", str(seed), "--variations", "2", "--device", "cpu",
        env={"SCOREHOST_PLUGINS": ""},
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    outputs = [tmp_path / "out-1.mid", tmp_path / "out-2.mid"]
    for path in outputs:
        _assert_edit_kept_the_controls(source, path)
    changed = [_notes(path)[CHANNELS[1]] != _notes(source)[CHANNELS[1]] for path in outputs]
    assert any(changed), "mmm rewrote nothing: the test would not show a merge losing controls"


@needs_example
def test_controls_survive_an_edit_by_a_third_party_model(tmp_path):
    source = tmp_path / "producer.mid"
    _producer_midi(source, 3)
    out = tmp_path / "out.mid"
    done = scorehost(
        "edit", str(source), "-o", str(out), "--model", "thirds-below", "--region", "1:2-3",
        env={"SCOREHOST_PLUGINS": "thirds"},
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    _assert_edit_kept_the_controls(source, out)
    assert _notes(out)[CHANNELS[1]] != _notes(source)[CHANNELS[1]]


def test_a_midi_round_trip_keeps_controls_exactly(tmp_path):
    _producer_midi(tmp_path / "in.mid", 4)
    score = read_score(tmp_path / "in.mid")
    assert [len(t.controls) for t in score.tracks] == [
        len(c) for c in _controls(tmp_path / "in.mid").values()
    ]
    assert score.tracks[0].controls[:2] == [
        Control(tick=0, kind="control_change", number=7, value=score.tracks[0].controls[0].value),
        Control(tick=0, kind="control_change", number=10, value=score.tracks[0].controls[1].value),
    ]
    write_score(score, tmp_path / "out.mid")
    assert read_score(tmp_path / "out.mid") == score
    assert _controls(tmp_path / "out.mid") == _controls(tmp_path / "in.mid")
    json_path = write_score(score, tmp_path / "out.json")
    assert read_score(json_path) == score


def test_a_pedal_pressed_where_a_note_starts_is_written_before_it():
    """Controls on a tick go after the notes ending there and before those starting there, in
    the order the track lists them (an RPN's 101, 100, 6 sequence keeps its meaning)."""
    controls = [
        Control(tick=480, kind="control_change", number=101, value=0),
        Control(tick=480, kind="control_change", number=100, value=0),
        Control(tick=480, kind="control_change", number=6, value=12),
        Control(tick=480, kind="control_change", number=64, value=127),
    ]
    notes = [Note(start=0, duration=480, pitch=60), Note(start=480, duration=480, pitch=62)]
    score = Score(length=1920, tracks=[Track(channel=3, notes=notes, controls=controls)])
    messages = [m for m in score_to_midi(score).tracks[1] if not m.is_meta and m.type != "program_change"]
    assert [(m.type, getattr(m, "control", getattr(m, "note", None))) for m in messages] == [
        ("note_on", 60),
        ("note_off", 60),
        ("control_change", 101),
        ("control_change", 100),
        ("control_change", 6),
        ("control_change", 64),
        ("note_on", 62),
        ("note_off", 62),
    ]
    assert {m.channel for m in messages} == {3}


def test_a_merge_keeps_the_input_tracks_controls_whatever_the_model_returns(host, tmp_path):
    _producer_midi(tmp_path / "in.mid", 5)
    score = read_score(tmp_path / "in.mid")
    stripped = score.model_copy(
        update={"tracks": [t.model_copy(update={"controls": []}) for t in score.tracks]}
    )  # a model that rebuilds its tracks from notes alone
    regions = [Region(track=1, start=REGION[0], end=REGION[1])]
    merged = merge_result(score, stripped, regions)
    assert [t.controls for t in merged.tracks] == [t.controls for t in score.tracks]
    # through the engine, and a new empty track has none
    grown = score.model_copy(update={"tracks": [*score.tracks, Track(name="new")]})
    engine = Engine(host, device="cpu")
    try:
        result = engine.run(
            EditRequest(model="echo", score=grown, regions=[Region(track=2, start=0, end=BAR)])
        )
    finally:
        engine.shutdown()
    kept = result.variations[0].score.tracks
    assert [t.controls for t in kept] == [t.controls for t in score.tracks] + [[]]


@pytest.mark.parametrize(
    ("control", "problem"),
    [
        ({"tick": 0, "kind": "control_change", "value": 1}, "needs a number"),
        ({"tick": 0, "kind": "pitchwheel", "number": 1, "value": 1}, "takes no number"),
        ({"tick": 0, "kind": "control_change", "number": 64, "value": 128}, "0..127"),
        ({"tick": 0, "kind": "aftertouch", "value": -1}, "0..127"),
        ({"tick": 0, "kind": "pitchwheel", "value": 8192}, "8191"),
        ({"tick": 0, "kind": "control_change", "number": 128, "value": 0}, "127"),
        ({"tick": 0, "kind": "sysex", "value": 0}, "kind"),
        ({"tick": -1, "kind": "aftertouch", "value": 0}, "tick"),
    ],
)
def test_a_control_outside_its_kinds_range_is_refused(control, problem):
    with pytest.raises(ValidationError, match=problem):
        Control.model_validate(control)


def test_score_json_without_controls_is_still_valid():
    track = Track.model_validate({"notes": [{"start": 0, "duration": 480, "pitch": 60}]})
    assert track.controls == []


def test_controls_survive_an_edit_by_deepbach(chorale, tmp_path):
    """A chorale as a MIDI file with a pedal, volumes and bends on each voice; deepbach rewrites
    two bars of the alto."""
    rng = random.Random(6)
    tracks = []
    for number, track in enumerate(chorale.tracks):
        controls = [Control(tick=0, kind="control_change", number=7, value=90 + number)]
        for bar in chorale.bars()[:6]:
            controls.append(Control(tick=bar.start, kind="control_change", number=64, value=127))
            controls.append(
                Control(tick=bar.start + 240, kind="pitchwheel", value=rng.randrange(-8192, 8192))
            )
            controls.append(Control(tick=bar.start + 300, kind="aftertouch", value=rng.randrange(128)))
            controls.append(Control(tick=bar.end - 10, kind="control_change", number=64, value=0))
        tracks.append(track.model_copy(update={"controls": controls, "channel": 4 + number}))
    source = write_score(chorale.model_copy(update={"tracks": tracks}), tmp_path / "chorale.mid")
    out = tmp_path / "out.mid"
    done = scorehost(
        "edit", str(source), "-o", str(out), "--model", "deepbach", "--region", "alto:2-3",
        "--seed", "1", "--device", "cpu", env={"SCOREHOST_PLUGINS": ""},
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert _controls(out) == _controls(source) and len(_controls(source)) == 4
    before, after = read_score(source), read_score(out)
    assert [t.controls for t in after.tracks] == [t.controls for t in before.tracks]
    alto = before.track_index("alto")
    written = [b for b in before.bars() if b.number in (2, 3)]  # bars as printed
    span = (written[0].start, written[-1].end)
    for index, (old, new) in enumerate(zip(before.tracks, after.tracks, strict=True)):
        kept = [n.key() for n in old.notes if index != alto or not span[0] <= n.start < span[1]]
        assert [n.key() for n in new.notes if index != alto or not span[0] <= n.start < span[1]] == kept


def test_controls_of_a_setup_track_go_to_the_track_that_plays_their_channel(tmp_path):
    """A DAW's setup track (here the conductor track) sets volume and pan of every channel and
    bends one; they act on their channel from any track, so they join the track that plays it,
    and are written there at the same ticks. A channel that no track plays keeps its controls
    on a track of its own."""
    setup = [mido.MetaMessage("track_name", name="Song"), mido.MetaMessage("set_tempo", tempo=500000)]
    setup += [mido.Message("control_change", channel=c, control=7, value=100 + c) for c in (2, 5, 11)]
    setup += [mido.Message("pitchwheel", channel=5, pitch=1000, time=960)]
    midi = mido.MidiFile(type=1, ticks_per_beat=480)
    midi.tracks.append(mido.MidiTrack(setup))
    for name, channel in (("Piano", 2), ("Strings", 5)):
        midi.tracks.append(
            mido.MidiTrack(
                [
                    mido.MetaMessage("track_name", name=name),
                    mido.Message("control_change", channel=channel, control=64, value=127),
                    mido.Message("note_on", channel=channel, note=60, velocity=80),
                    mido.Message("note_off", channel=channel, note=60, velocity=0, time=1920),
                ]
            )
        )
    midi.save(str(tmp_path / "setup.mid"))
    score = read_score(tmp_path / "setup.mid")
    assert score.title == "Song"
    assert [(t.name, t.channel, len(t.notes)) for t in score.tracks] == [
        ("Piano", 2, 1),
        ("Strings", 5, 1),
        ("", 11, 0),
    ]
    assert score.tracks[1].controls == [
        Control(tick=0, kind="control_change", number=64, value=127),
        Control(tick=0, kind="control_change", number=7, value=105),
        Control(tick=960, kind="pitchwheel", value=1000),
    ]
    out = write_score(score, tmp_path / "out.mid")
    assert {c: sorted(e) for c, e in _controls(out).items()} == {
        c: sorted(e) for c, e in _controls(tmp_path / "setup.mid").items()
    }
    assert read_score(out) == score
