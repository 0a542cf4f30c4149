"""Live MIDI: clock following, recording and playback; then the real thing through JACK's dummy driver."""

from __future__ import annotations

import sys
import threading
import time

import mido
import pytest

from scorehost.bridges.midi.live import Player, Recorder, Transport
from scorehost.core.engine import Engine
from scorehost.core.score import Note
from scorehost.core.settings import Settings

# ---- without ports ----------------------------------------------------------------------


def test_transport_follows_start_clock_songpos_and_interpolates():
    transport = Transport()
    transport.feed(mido.Message("start"), 0.0)
    assert transport.position(0.0) == 0
    for pulse in range(25):  # 120 bpm: a pulse every 1/48 s
        transport.feed(mido.Message("clock"), pulse / 48)
    assert abs(transport.bpm - 120) < 0.5
    assert transport.position(24 / 48) == 480  # the 25th pulse marks beat 2
    assert transport.position(24 / 48 + 1 / 96) == 490  # half a pulse later
    assert abs(transport.bpm - 120) < 1
    assert transport.feed(mido.Message("songpos", pos=16), 1.0) == "jump"  # bar 2 (16 sixteenths)
    transport.feed(mido.Message("clock"), 1.0)
    assert transport.position(1.0) == 1920
    transport.feed(mido.Message("stop"), 1.1)
    transport.feed(mido.Message("clock"), 1.1)
    assert transport.position(1.2) == 1920 and not transport.playing


def _play_into(bridge, stamps: dict[int, float], notes_at: set[int]) -> list[int]:
    """Feed the bridge start, the clocks at these stamps (pulse number: time; missing pulses are
    lost) and a quarter note on each pulse in notes_at, sent just after its pulse; the onsets it
    recorded."""
    bridge._receive(mido.Message("start"), 0.0)
    for pulse in range(max(stamps) + 1):
        if pulse in stamps:
            bridge._receive(mido.Message("clock"), stamps[pulse])
        if pulse in notes_at:  # a note on time reaches the bridge in its pulse's JACK cycle
            at = stamps.get(pulse, pulse / 96) + 0.0002
            bridge._receive(mido.Message("note_on", channel=0, note=60, velocity=90), at)
            bridge._receive(mido.Message("note_off", channel=0, note=60), at + 0.0001)
    bridge._receive(mido.Message("stop"), max(stamps.values()) + 0.01)
    return [n.start for n in bridge.recorder.score((4, 4), 240).tracks[0].notes]


def _clock(pulses: int, interval: float = 1 / 96) -> dict[int, float]:
    """240 bpm, delivered with up to 1.5 ms of jitter (a JACK period is 5.3 ms; JACK delivers
    within one)."""
    return {p: 0.001 + p * interval + 0.0015 * ((p * 7) % 5) / 4 for p in range(pulses)}


def test_a_clock_pulse_lost_on_the_way_is_put_back_and_notes_land_in_their_bars():
    from scorehost.bridges.midi.server import MidiBridge

    beats = {b * 24 for b in range(12)}
    stamps = _clock(12 * 24 + 2)
    for lost in (47, 95, 191):  # JACK drops a cycle's MIDI when a client misses the cycle
        del stamps[lost]
    bridge = MidiBridge()
    assert _play_into(bridge, stamps, beats) == [b * 480 for b in range(12)]
    assert bridge.transport.pulses == 12 * 24 + 1


def test_a_late_pulse_or_a_tempo_drop_is_not_taken_for_a_lost_one():
    from scorehost.bridges.midi.server import MidiBridge

    beats = {b * 24 for b in range(12)}
    late = _clock(12 * 24 + 2)
    late[72] += 0.9 / 96  # delivered nine tenths of a pulse late, with the note after it
    late[121] += 0.95 / 96
    bridge = MidiBridge()
    assert _play_into(bridge, late, beats) == [b * 480 for b in range(12)]
    assert bridge.transport.pulses == 12 * 24 + 1

    slower = _clock(96)  # bar 2 at 240 bpm, then 120 bpm from bar 2's downbeat
    slower.update({p: slower[95] + (p - 95) / 48 for p in range(96, 12 * 24 + 2)})
    bridge = MidiBridge()
    assert _play_into(bridge, slower, beats) == [b * 480 for b in range(12)]
    assert abs(bridge.transport.bpm - 120) < 1


def test_lost_pulses_are_not_guessed_when_deliveries_come_in_steps_near_the_interval():
    """A JACK period of 0.9 pulse: deliveries are a period apart, now and then two, which no
    pulse was lost in."""
    from scorehost.bridges.midi.server import MidiBridge

    period = 0.9 / 96
    stamps = {p: (int(p / 96 / period) + 1) * period for p in range(12 * 24 + 2)}
    bridge = MidiBridge()
    assert _play_into(bridge, stamps, {b * 24 for b in range(12)}) == [b * 480 for b in range(12)]


def test_a_batch_read_late_keeps_the_midi_systems_times():
    from scorehost.bridges.midi.server import message_times

    interval = 1 / 96
    # the reader was 0.3 s late: four clocks, one pulse apart, read at once
    assert message_times([interval] * 4, 10.0, 10.34) == pytest.approx(
        [10.0 + interval * n for n in (1, 2, 3, 4)]
    )
    # the first batch ends at the time it is read; its gaps are kept
    assert message_times([0.0, interval, interval], None, 5.0) == pytest.approx(
        [5.0 - 2 * interval, 5.0 - interval, 5.0]
    )
    # never in the future: a batch past the time it was read is moved back whole
    assert message_times([0.01, 0.01], 1.0, 1.015) == pytest.approx([1.005, 1.015])


def test_recorder_makes_one_track_per_channel_and_replaces_retakes():
    recorder = Recorder()
    recorder.feed(mido.Message("program_change", channel=2, program=33), 0, True)
    recorder.feed(mido.Message("note_on", channel=2, note=40, velocity=90), 0, True)
    recorder.feed(mido.Message("note_off", channel=2, note=40), 470, True)
    recorder.feed(mido.Message("note_on", channel=0, note=72, velocity=70), 480, True)
    recorder.feed(mido.Message("note_on", channel=0, note=72, velocity=0), 960, True)
    recorder.feed(mido.Message("note_on", channel=0, note=74, velocity=70), 980, False)  # stopped
    recorder.feed(mido.Message("note_on", channel=0, note=72, velocity=60), 490, True)  # next loop pass
    recorder.feed(mido.Message("note_off", channel=0, note=72), 900, True)
    score = recorder.score((3, 4), 100.0, min_length=4 * 1440)
    assert [t.name for t in score.tracks] == ["ch1", "ch3"]
    assert score.tracks[1].program == 33 and score.length == 4 * 1440 and score.tempos[0].bpm == 100
    assert [(n.start, n.duration, n.velocity) for n in score.tracks[0].notes] == [(490, 410, 60)]


def test_player_sends_each_note_in_its_pulse_and_silences_on_a_locate():
    sent = []
    player = Player(lambda msg: sent.append((time.monotonic(), msg)))
    try:
        player.set_notes(
            [(1, 0, 1920)],
            {1: [Note(start=10, duration=20, pitch=50), Note(start=40, duration=480, pitch=52)]},
        )
        now = time.monotonic()
        player.on_pulse(0, 0.02, now)
        player.on_pulse(20, 0.02, now + 0.02)
        player.on_pulse(40, 0.02, now + 0.04)
        time.sleep(0.15)
        kinds = [(m.type, m.note) for _, m in sent]
        assert kinds == [("note_on", 50), ("note_off", 50), ("note_on", 52)]
        assert abs(sent[0][0] - (now + 0.01)) < 0.02
        player.silence()  # a locate: the sounding note is released
        assert [(m.type, m.note, m.channel) for _, m in sent[3:]] == [("note_off", 52, 1)]
        player.set_notes([(1, 0, 1920)], {})  # a new fill replaces the old one
        assert player.events == []
        # a pulse that put back a lost one: the span it skipped is sent at once, and not again
        # by a pulse that takes the guess back
        player.set_notes([(1, 0, 1920)], {1: [Note(start=490, duration=5, pitch=55)]})
        sent.clear()
        player.on_pulse(460, 0.02, time.monotonic())
        player.on_pulse(500, 0.02, time.monotonic())  # pulse 480 was put back
        time.sleep(0.05)
        assert [(m.type, m.note) for _, m in sent] == [("note_on", 55), ("note_off", 55)]
        player.on_pulse(480, 0.02, time.monotonic())  # the guess taken back
        time.sleep(0.05)
        assert len(sent) == 2
    finally:
        player.close()


# ---- through JACK ------------------------------------------------------------------------


class FakeDaw:
    """Plays a clock and notes into 'scorehost in' and records what comes out of 'scorehost out',
    stamping each message with the clock pulse it arrived at. Like a DAW it is its own JACK client
    and polls its input (no Python in JACK's thread)."""

    def __init__(self, backend, bpm: float):
        import rtmidi

        api = getattr(rtmidi, "API_" + backend.partition("/")[2])
        self.interval = 60 / bpm / 24
        self.out = rtmidi.MidiOut(api, "fake daw")
        self.out.open_port(_port(self.out.get_ports(), "scorehost in"))
        self.inp = rtmidi.MidiIn(api, "fake daw")
        self.inp.open_port(_port(self.inp.get_ports(), "scorehost out"))
        self.pulse = -1
        self.heard: list[tuple[int, mido.Message]] = []

    def send(self, msg: mido.Message) -> None:
        self.out.send_message(msg.bytes())

    def listen(self) -> None:
        while (item := self.inp.get_message()) is not None:
            msg = mido.Message.from_bytes(item[0])
            if msg.type in ("note_on", "note_off"):
                self.heard.append((self.pulse, msg))

    def play(self, pulses: int, notes: dict[int, list[mido.Message]], start: mido.Message) -> None:
        """Send start (or songpos+continue), then pulses, with notes sent just after their pulse."""
        self.send(start)
        if start.type == "songpos":
            self.send(mido.Message("continue"))
        begin = time.perf_counter()
        for pulse in range(pulses):
            while time.perf_counter() < begin + pulse * self.interval:
                self.listen()
                time.sleep(0.0005)
            self.pulse = pulse
            self.send(mido.Message("clock"))
            for msg in notes.get(pulse, []):
                self.send(msg)
        self.send(mido.Message("stop"))
        time.sleep(0.05)
        self.listen()

    def close(self):
        self.out.close_port()
        self.inp.close_port()


def _port(names: list[str], wanted: str) -> int:
    matches = [i for i, n in enumerate(names) if wanted in n]
    assert matches, f"no port named {wanted!r} in {names}"
    return matches[0]


def test_notes_played_under_a_clock_come_back_filled_in_the_right_bars(jack, octave_host, tmp_path):
    from scorehost.bridges.midi.server import MidiBridge

    settings = Settings.with_bridges([MidiBridge])(
        midi_backend=jack,
        midi_model="octave",
        midi_fill="ch2:2-3",
        midi_trigger_cc=119,
        midi_meter="4/4",
        midi_save_dir=tmp_path,
        allowed_dirs=[tmp_path],
    )
    engine = Engine(octave_host, device="cpu", default_timeout=20)
    bridge = MidiBridge()
    bridge.start(engine, settings)
    daw = FakeDaw(jack, bpm=240)
    try:
        # Pass 1: a melody on channel 1, one quarter note per beat through bars 1-3 (pulses 0..287).
        melody = {}
        for beat in range(12):
            melody[beat * 24] = [mido.Message("note_on", channel=0, note=60 + beat, velocity=100)]
            melody[beat * 24 + 12] = [mido.Message("note_off", channel=0, note=60 + beat)]
        daw.play(12 * 24 + 2, melody, mido.Message("start"))
        # The bridge polls its port: on a loaded machine it may still be reading; wait for it.
        deadline = time.monotonic() + 5
        while bridge.state()["notes"] < 12 and time.monotonic() < deadline:
            time.sleep(0.02)
        assert bridge.state()["notes"] == 12
        daw.send(mido.Message("control_change", channel=0, control=119, value=127))  # the trigger
        deadline = time.monotonic() + 10
        while bridge.last_job is None and time.monotonic() < deadline:
            time.sleep(0.01)
        bridge.last_job.wait(10)
        time.sleep(0.1)
        # Pass 2: the DAW loops back to the top; the fill of bars 2-3 plays out on channel 2.
        daw.heard.clear()
        daw.play(12 * 24 + 2, {}, mido.Message("songpos", pos=0))
        time.sleep(0.1)
    finally:
        events = list(bridge.player.events) if bridge.player else []
        daw.close()
        bridge.stop()
        engine.shutdown(timeout=2)
    ons = [(pulse, m.note, m.channel) for pulse, m in daw.heard if m.type == "note_on" and m.velocity > 0]
    recorded = [(n.start, n.pitch) for n in bridge.recorder.score((4, 4), 120).tracks[0].notes]
    played = [(e[0], e[1], e[3]) for e in events]
    why = f"recorded {recorded}; heard {[(p, str(m)) for p, m in daw.heard]}; player {played}"
    assert [(note, channel) for _, note, channel in ons] == [(60 + beat - 12, 1) for beat in range(4, 12)], (
        why
    )
    for (pulse, note, _), beat in zip(ons, range(4, 12), strict=True):
        # within a sixteenth (6 pulses) of its beat, so in its bar (2 or 3) and on its beat
        assert abs(pulse - beat * 24) <= 6, f"note {note} came at pulse {pulse}, not {beat * 24}"
        heard_beat = round(pulse / 24)  # a note played on time may arrive a hair before its pulse
        assert heard_beat == beat and 1 + heard_beat // 4 in (2, 3)
    offs = [m for _, m in daw.heard if m.type == "note_off" or m.velocity == 0]
    assert len(offs) == 8
    (saved,) = bridge.saved  # the fill was also saved as a MIDI file
    from scorehost.core.scoreio import read_score

    assert [n.pitch for n in read_score(saved).tracks[1].notes] == [48 + beat for beat in range(4, 12)]


def test_a_bad_meter_is_refused_by_the_reader_osc_uses_before_ports_open(octave_host):
    from scorehost.bridges.midi.server import MidiBridge
    from scorehost.core.errors import RequestError

    engine = Engine(octave_host, device="cpu")
    bridge = MidiBridge()
    try:
        with pytest.raises(
            RequestError, match="^midi_meter: write the meter as 4/4, 3/4, 6/8 ..., not '3/5'"
        ):
            bridge.start(engine, Settings.with_bridges([MidiBridge])(midi_meter="3/5"))
        assert bridge.inport is None and bridge.outport is None
    finally:
        engine.shutdown(timeout=2)


def test_ports_fail_with_a_clear_message_without_a_midi_system(octave_host):
    from scorehost.bridges.midi.server import MidiBridge
    from scorehost.core.errors import ScorehostError

    engine = Engine(octave_host, device="cpu")
    try:
        with pytest.raises(ScorehostError, match="python-rtmidi|virtual MIDI ports"):
            MidiBridge().start(
                engine, Settings.with_bridges([MidiBridge])(midi_backend="mido.backends.nonexistent")
            )
    finally:
        engine.shutdown(timeout=2)


def test_without_python_rtmidi_the_error_says_how_to_install_the_extra_both_ways(monkeypatch):
    from scorehost.bridges.midi.server import DEFAULT_BACKEND, _rtmidi_api
    from scorehost.core.errors import ScorehostError

    monkeypatch.setitem(sys.modules, "rtmidi", None)  # import rtmidi then raises ImportError
    with pytest.raises(ScorehostError) as refused:
        _rtmidi_api(DEFAULT_BACKEND)
    message = str(refused.value)
    assert "pip install 'scorehost[live]' (from the package index)" in message
    assert "pip install '.[live]' in a scorehost checkout" in message


def test_threads_left_running_are_daemons():
    assert all(t.daemon for t in threading.enumerate() if t.name.startswith("scorehost-midi"))


def test_an_osc_live_fill_writes_a_file_and_reports_the_notes(jack, octave_host, tmp_path):
    from scorehost.bridges.client.osc import OscClient
    from scorehost.bridges.midi.server import MidiBridge
    from scorehost.bridges.osc.server import OscBridge
    from scorehost.core import hookimpl
    from scorehost.core.scoreio import read_score

    midi = MidiBridge()

    class Bridges:
        @hookimpl
        def register_bridges(self, register):
            register(midi)

    octave_host.pm.register(Bridges(), name="bridges")
    settings = Settings.with_bridges([MidiBridge, OscBridge])(
        midi_backend=jack, osc_port=0, allowed_dirs=[tmp_path], midi_meter="3/4"
    )
    engine = Engine(octave_host, device="cpu", default_timeout=20)
    osc = OscBridge()
    osc.start(engine, settings)
    client = OscClient("127.0.0.1", osc.port)
    try:
        from scorehost.bridges.client.osc import OscError

        with pytest.raises(OscError, match="not_running"):
            client.call("live/status")
        midi.start(engine, settings)
        for msg in ("start", "clock"):
            midi._receive(mido.Message(msg))
        midi.recorder.feed(mido.Message("note_on", channel=0, note=67, velocity=80), 0, True)
        midi.recorder.feed(mido.Message("note_off", channel=0, note=67), 480, True)
        playing, position, notes, bpm, tracks = client.call("live/status")
        assert (playing, notes, tracks) == (1, 1, "ch1")
        out = tmp_path / "live.mid"
        replies = []
        done = client.call(
            "live/fill",
            "model=octave",
            "region=ch5:1-2",
            f"out={out}",
            on_reply=lambda n, v: replies.append((n, v)),
        )
        assert done[2] == str(out)
        result = read_score(out)
        assert [t.name for t in result.tracks] == ["ch1", "ch5"] and result.length == 2 * 1440
        assert [(n.pitch, n.start) for n in result.tracks[1].notes] == [(55, 0)]
        from music21 import converter, meter

        parsed = converter.parse(str(out))  # a second library reads the file too
        assert len(parsed.parts) == 2
        assert parsed.recurse().getElementsByClass(meter.TimeSignature).first().ratioString == "3/4"
        chunk = next(v for n, v in replies if n == "notes")
        assert chunk[3] == "ch5" and chunk[6:] == [55, 0.0, 1.0, 80]
        assert client.call("live/clear") == [] and client.call("live/status")[2] == 0
    finally:
        client.close()
        osc.stop()
        midi.stop()
        engine.shutdown(timeout=2)
