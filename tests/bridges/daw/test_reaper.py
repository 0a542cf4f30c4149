"""The REAPER script against a fake of the ReaScript calls it uses, and against the real HTTP bridge."""

from __future__ import annotations

import time

import pytest

from scorehost.bridges.daw.reaper import scorehost_fill as script
from scorehost.core.requests import EditRequest

PPQ = 960
SECONDS_PER_QN = 0.5  # 120 bpm throughout


class Take:
    def __init__(self, start_qn: float, notes: list[list], ccs: list[list] | None = None):
        self.start_qn = start_qn
        self.notes = [
            list(n) for n in notes
        ]  # [selected, muted, start ppq, end ppq, channel, pitch, velocity]
        self.ccs = [list(c) for c in ccs or []]  # [selected, muted, ppq, chanmsg, channel, msg2, msg3]


class Item:
    def __init__(self, track: str, position: float, length: float, take: Take | None, midi: bool = True):
        self.track, self.position, self.length, self.take, self.midi = track, position, length, take, midi


class FakeReaper:
    """The RPR_ calls of scorehost_fill.py, with REAPER's Python conventions (tuples of all arguments)."""

    def __init__(
        self, items: list[Item], selected: list[Item], selection: tuple[float, float], answers: str = ""
    ):
        self.items, self.selected, self.selection = items, selected, selection
        self.ext: dict[tuple[str, str], str] = {}
        self.answers = answers
        self.messages: list[str] = []
        self.undo: list[str] = []
        self.tracks = sorted({i.track for i in items})
        self.deferred: list[str] = []
        self.at_exit = None
        self.status: list[str] = []
        self.meter = (4, 4)

    # project and items
    def CountSelectedMediaItems(self, proj):
        return len(self.selected)

    def GetSelectedMediaItem(self, proj, index):
        return self.selected[index]

    def CountMediaItems(self, proj):
        return len(self.items)

    def GetMediaItem(self, proj, index):
        return self.items[index]

    def GetActiveTake(self, item):
        return item.take

    def TakeIsMIDI(self, take):
        return next(i for i in self.items if i.take is take).midi

    def GetMediaItem_Track(self, item):
        return item.track

    def GetMediaItemInfo_Value(self, item, name):
        return {"D_POSITION": item.position, "D_LENGTH": item.length}[name]

    def GetSetMediaTrackInfo_String(self, track, name, value, set_it):
        assert name == "P_NAME" and not set_it
        return (True, track, name, track, set_it)

    def GetMediaTrackInfo_Value(self, track, name):
        return float(self.tracks.index(track) + 1)

    # time
    def GetSet_LoopTimeRange(self, is_set, is_loop, start, end, seek):
        return (is_set, is_loop, self.selection[0], self.selection[1], seek)

    def TimeMap2_timeToQN(self, proj, time):
        return time / SECONDS_PER_QN

    def TimeMap_GetTimeSigAtTime(self, proj, time, num, denom, tempo):
        return (proj, time, *self.meter, 120.0)

    # MIDI
    def MIDI_CountEvts(self, take, notes, ccs, sysex):
        return (1, take, len(take.notes), len(take.ccs), 0)

    def MIDI_GetNote(self, take, index, *_):
        return (True, take, index, *take.notes[index])

    def MIDI_GetCC(self, take, index, *_):
        return (True, take, index, *take.ccs[index])

    def MIDI_GetProjQNFromPPQPos(self, take, ppq):
        return take.start_qn + ppq / PPQ

    def MIDI_GetPPQPosFromProjQN(self, take, qn):
        return (qn - take.start_qn) * PPQ

    def MIDI_DeleteNote(self, take, index):
        del take.notes[index]
        return True

    def MIDI_InsertNote(self, take, selected, muted, start, end, channel, pitch, velocity, no_sort):
        take.notes.append([selected, muted, start, end, channel, pitch, velocity])
        return True

    def MIDI_Sort(self, take):
        take.notes.sort(key=lambda n: (n[2], n[5]))

    # user interface and state
    def GetExtState(self, section, key):
        return self.ext.get((section, key), "")

    def SetExtState(self, section, key, value, persist):
        self.ext[(section, key)] = value

    def GetUserInputs(self, title, count, captions, values, size):
        assert captions.count(",") == count  # the last one is extrawidth=
        return (bool(self.answers), title, count, captions, self.answers or values, size)

    def ShowMessageBox(self, text, title, kind):
        self.messages.append(text)
        return 1

    def ShowConsoleMsg(self, text):
        self.messages.append(text)

    def Undo_BeginBlock(self):
        self.undo.append("begin")

    def Undo_EndBlock(self, description, flags):
        self.undo.append(description)

    def UpdateArrange(self):
        pass

    # the defer loop
    def defer(self, code):
        self.deferred.append(code)

    def atexit(self, code):
        self.at_exit = code

    def Help_Set(self, text, is_temporary):
        self.status.append(text)

    def pump(self, seconds: float = 10.0) -> None:
        """Run deferred calls as REAPER's main loop would, until none is left."""
        deadline = time.monotonic() + seconds
        while self.deferred and time.monotonic() < deadline:
            code = self.deferred.pop(0)
            eval(code, vars(script))
            time.sleep(0.005)
        assert not self.deferred, "the script kept polling"


def _project():
    """Bass (selected, from bar 1) and Melody (context, an item from bar 2) in 4/4 at 120 bpm."""
    bass = Item(
        "Bass",
        0.0,
        8.0,
        Take(0.0, [[False, False, q * PPQ, (q + 1) * PPQ, 2, 40 + q, 90] for q in range(16)]),
    )
    melody = Item(
        "Melody",
        2.0,
        6.0,
        Take(4.0, [[False, False, q * PPQ, q * PPQ + 480, 0, 70 + q, 100] for q in range(12)]),
    )
    far = Item("Melody", 20.0, 2.0, Take(40.0, [[False, False, 0, PPQ, 0, 90, 100]]))
    audio = Item("Drums", 0.0, 8.0, Take(0.0, []), midi=False)
    return bass, melody, far, audio


def test_the_selection_is_encoded_as_score_json_with_tick_regions():
    bass, melody, far, audio = _project()
    api = FakeReaper([bass, melody, far, audio], [bass, audio], selection=(2.0, 6.0))  # bars 2-3
    body, plan = script.encode_selection(
        api, {"model": "echo", "options": "seed=3 temperature=0.5", "context": "y"}
    )
    request = EditRequest.model_validate(body)  # what the HTTP bridge will validate
    assert [t.name for t in request.score.tracks] == ["Bass", "Melody"]
    assert [(r.track, r.start, r.end) for r in request.regions] == [(0, 1920, 5760)]
    assert request.options == {"seed": 3, "temperature": 0.5}
    assert [(n.start, n.duration, n.pitch) for n in request.score.tracks[0].notes[:2]] == [
        (0, 480, 40),
        (480, 480, 41),
    ]
    melody_notes = request.score.tracks[1].notes
    assert len(melody_notes) == 12 and (melody_notes[0].start, melody_notes[0].duration) == (1920, 240)
    assert request.score.length == 7680 and request.score.tempos[0].bpm == 120
    assert plan["takes"][0]["start"] == 0 and plan["takes"][0]["end"] == 7680
    body, _ = script.encode_selection(api, {"model": "echo", "options": "", "context": "n"})
    assert [t["name"] for t in body["score"]["tracks"]] == ["Bass"]


def _drum_part(name: str, notes: bool = True) -> Item:
    """A drum item over bars 1-4: kick and snare on channel 10, or empty (a part to write)."""
    hits = [[False, False, q * PPQ, q * PPQ + 240, 9, 36 if q % 2 == 0 else 38, 100] for q in range(16)]
    return Item(name, 0.0, 8.0, Take(0.0, hits if notes else []))


def test_programs_and_drum_tracks_travel_with_the_selection():
    """A multi-track model needs each track's instrument: the take's program change, and
    channel 10 (or no notes yet on a track named like drums) for a drum track."""
    bass, melody, far, audio = _project()
    bass.take.ccs = [[False, False, 0, 0xC0, 2, 33, 0]]  # program 34, fingered bass
    kit, new = _drum_part("Kit"), _drum_part("Drums 2", notes=False)
    api = FakeReaper([bass, melody, kit, new], [bass, new], selection=(2.0, 6.0))
    assert script.load_settings(api)["model"] == "mmm"  # the default fills any tracks, not only SATB
    body, plan = script.encode_selection(api, {"model": "mmm", "options": "", "context": "y"})
    request = EditRequest.model_validate(body)
    assert [(t.name, t.program, t.is_drum) for t in request.score.tracks] == [
        ("Bass", 33, False),
        ("Drums 2", 0, True),
        ("Melody", 0, False),
        ("Kit", 0, True),
    ]
    assert [(r.track, r.start, r.end) for r in request.regions] == [(0, 1920, 5760), (1, 1920, 5760)]
    score = request.score.model_dump()
    score["tracks"][1]["notes"] = [{"start": 1920, "duration": 240, "pitch": 42, "velocity": 90}]
    assert script.apply_result(api, plan, score) == 1 + 8  # the bass's 8 notes are written back too
    assert new.take.notes == [[False, False, 3840.0, 4320.0, 9, 42, 90]]  # channel 10, at 960 PPQ


class FakeServer:
    """The HTTP bridge's jobs resource: validates like the server, and writes each region's notes
    a semitone up; a job reports 'running' on its first poll."""

    def __init__(self, finish: bool = True):
        self.jobs: dict[str, dict] = {}
        self.calls: list[tuple[str, str]] = []
        self.finish = finish

    def __call__(self, settings, method, path, body=None):
        self.calls.append((method, path))
        if method == "POST":
            request = EditRequest.model_validate(body)  # what the HTTP bridge will validate
            score = request.score.model_dump()
            for region in request.regions:
                for note in score["tracks"][region.track]["notes"]:
                    if region.start <= note["start"] < region.end:
                        note["pitch"] += 1
            job = str(len(self.jobs))
            self.jobs[job] = {
                "polls": 0,
                "result": {"variations": [{"score": score}], "warnings": ["a warning"]},
            }
            return {"id": job, "status": "queued", "progress": 0.0}
        job = path.split("/")[3]
        if method == "DELETE":
            self.jobs[job]["cancelled"] = True
            return {"id": job, "status": "cancelled"}
        if path.endswith("/result"):
            return self.jobs[job]["result"]
        self.jobs[job]["polls"] += 1
        done = self.finish and self.jobs[job]["polls"] > 1
        return {"id": job, "status": "done" if done else "running", "progress": 1.0 if done else 0.5}


def test_the_answer_replaces_only_the_notes_in_the_selection_in_one_undo_step():
    bass, melody, far, audio = _project()
    before_melody = [list(n) for n in melody.take.notes]
    api = FakeReaper([bass, melody, far, audio], [bass], selection=(2.0, 6.0), answers="http://x,echo,,,y,,n")
    fill = script.main(api, request=FakeServer())
    assert api.deferred == ["_scorehost_poll()"] and fill.written is None
    api.pump()
    assert fill.written == 8 and api.status[-2:] == ["scorehost: running 50%", "scorehost: wrote 8 notes"]
    pitches = {int(n[2] // PPQ): n[5] for n in bass.take.notes}
    assert pitches == {q: 40 + q + (1 if 4 <= q < 12 else 0) for q in range(16)}
    assert all(n[4] == 2 and n[3] - n[2] == PPQ for n in bass.take.notes)  # channel and lengths kept
    assert melody.take.notes == before_melody
    assert api.undo == ["begin", "scorehost fill"] and api.messages == ["scorehost: a warning\n"]
    assert api.ext[("scorehost", "model")] == "echo" and api.ext[("scorehost", "ask")] == "n"
    script.main(api, request=FakeServer())  # the settings are remembered; no dialog this time
    api.pump()
    assert sorted(n[5] for n in bass.take.notes)[4:6] == [46, 47]


@pytest.mark.parametrize(
    ("selection", "selected", "message"),
    [((3.0, 3.0), "bass", "make a time selection"), ((2.0, 6.0), "audio", "select the MIDI items")],
)
def test_mistakes_are_shown_in_a_message_box(selection, selected, message):
    bass, melody, far, audio = _project()
    api = FakeReaper(
        [bass, melody, audio], [{"bass": bass, "audio": audio}[selected]], selection, answers="u,m,,,y,,n"
    )
    assert script.main(api, request=FakeServer()) is None
    assert message in api.messages[0] and api.undo == [] and api.deferred == []


def test_against_the_real_http_bridge(host):
    from scorehost.bridges.http.server import HttpBridge
    from scorehost.core.engine import Engine
    from scorehost.core.settings import Settings

    engine = Engine(host, device="cpu")
    bridge = HttpBridge()
    bridge.start(engine, Settings.with_bridges([HttpBridge])(http_port=0))
    try:
        bass, melody, far, audio = _project()
        before = sorted(map(tuple, bass.take.notes))
        api = FakeReaper([bass, melody], [bass], (2.0, 6.0), answers=f"{bridge.address()},echo,seed=2,,y,,n")
        fill = script.main(api)
        api.pump()
        assert fill.written == 8
        assert sorted(map(tuple, bass.take.notes)) == before  # echo: the same notes, rewritten
        api.ext[("scorehost", "model")] = "fails"
        api.ext[("scorehost", "ask")] = "n"
        script.main(api)
        api.pump()
        assert "divided by zero" in api.messages[-1]
        api.ext[("scorehost", "model")] = "nope"
        assert script.main(api) is None and "unknown model 'nope'" in api.messages[-1]
        api.ext[("scorehost", "url")] = "http://127.0.0.1:9"
        assert script.main(api) is None and "cannot reach scorehost" in api.messages[-1]
    finally:
        bridge.stop()
        engine.shutdown(timeout=2)


def test_mmm_fills_the_bass_and_writes_a_new_drum_part_over_the_real_http_bridge(mmm_host):
    from scorehost.bridges.http.server import HttpBridge
    from scorehost.core.engine import Engine
    from scorehost.core.settings import Settings

    engine = Engine(mmm_host, device="cpu", default_timeout=120)
    bridge = HttpBridge()
    bridge.start(engine, Settings.with_bridges([HttpBridge])(http_port=0))
    try:
        bass, melody, far, audio = _project()
        drums = _drum_part("Drums", notes=False)
        outside = sorted(tuple(n) for n in bass.take.notes if not 4 * PPQ <= n[2] < 12 * PPQ)
        api = FakeReaper(
            [bass, melody, drums], [bass, drums], (2.0, 6.0), answers=f"{bridge.address()},mmm,seed=1,,y,,n"
        )
        fill = script.main(api)
        assert fill is not None, api.messages
        api.pump(120)
        assert fill.written, api.messages
        inside = [n for n in bass.take.notes if 4 * PPQ <= n[2] < 12 * PPQ]
        assert inside and sorted(tuple(n) for n in bass.take.notes if n not in inside) == outside
        assert drums.take.notes and all(
            n[4] == 9 and 27 <= n[5] <= 87 and 4 * PPQ <= n[2] < 12 * PPQ for n in drums.take.notes
        )
    finally:
        bridge.stop()
        engine.shutdown(timeout=2)


def test_stopping_the_script_cancels_the_running_fill():
    bass, melody, far, audio = _project()
    server = FakeServer(finish=False)
    api = FakeReaper([bass, melody], [bass], (2.0, 6.0), answers="http://x,echo,,,y,,n")
    before = [list(n) for n in bass.take.notes]
    script.main(api, request=server)
    eval(api.deferred.pop(0), vars(script))  # one poll: still running
    assert api.deferred == ["_scorehost_poll()"]
    eval(api.at_exit, vars(script))  # REAPER terminates the instance
    assert server.calls[-1] == ("DELETE", "/v1/jobs/0") and server.jobs["0"]["cancelled"]
    assert bass.take.notes == before


def test_scorehost_client_reaper_script_finds_and_copies_the_script(tmp_path):
    from click.testing import CliRunner

    from scorehost.bridges.client.cli import client

    runner = CliRunner()
    shown = runner.invoke(client, ["reaper-script"])
    assert shown.exit_code == 0 and shown.output.strip() == script.__file__
    copied = runner.invoke(client, ["reaper-script", "--copy-to", str(tmp_path)])
    assert copied.exit_code == 0 and (tmp_path / "scorehost_fill.py").read_text().startswith(
        '"""scorehost fill'
    )
    again = runner.invoke(client, ["reaper-script", "--copy-to", str(tmp_path)])
    assert again.exit_code != 0 and "never writes over" in str(again.exception)


def _tune_item():
    """Daniel O'Connell (3/4) from its first whole bar, on a track named Melody: bar N of the
    tune is bar N of the project (its upbeat left out)."""
    from ...plugins.theme.conftest import tune

    score = tune()
    offset = score.bars()[1].start
    notes = [[False, False, 2 * (n.start - offset), 2 * (n.end - offset), 0, n.pitch, 90]
             for n in score.tracks[0].notes if n.start >= offset]  # fmt: skip
    seconds = (score.length - offset) / 480 * SECONDS_PER_QN
    return Item("Melody", 0.0, seconds, Take(0.0, notes))


@pytest.mark.parametrize("constraints", ["theme:1-4", ""])
def test_theme_develops_bars_1_to_4_in_the_selection_over_the_real_http_bridge(tiny_theme, constraints):
    """The theme model with a theme constraint (bars from the project's start), or none: the
    server then retrieves one and its warning says which bars it took."""
    from scorehost.bridges.http.server import HttpBridge
    from scorehost.core.engine import Engine
    from scorehost.core.settings import Settings

    engine = Engine(tiny_theme.host(), device="cpu", default_timeout=120)
    bridge = HttpBridge()
    bridge.start(engine, Settings.with_bridges([HttpBridge])(http_port=0))
    try:
        melody = _tune_item()
        selection = (8 * 3 * SECONDS_PER_QN, 24 * 3 * SECONDS_PER_QN)  # bars 9-24 of 3/4
        inside = range(8 * 3 * PPQ, 24 * 3 * PPQ)
        outside = sorted(tuple(n) for n in melody.take.notes if n[2] not in inside)
        answers = f"{bridge.address()},theme,seed=1,{constraints},y,,n"
        api = FakeReaper([melody], [melody], selection, answers=answers)
        api.meter = (3, 4)
        fill = script.main(api)
        assert fill is not None, api.messages
        api.pump(120)
        assert fill.written, api.messages
        written = [n for n in melody.take.notes if n[2] in inside]
        assert written and sorted(tuple(n) for n in melody.take.notes if n not in written) == outside
        if constraints:
            assert api.messages == []
        else:
            assert len(api.messages) == 1 and "theme: bars 1-4 of track 0 (Melody)" in api.messages[0], (
                api.messages
            )
    finally:
        bridge.stop()
        engine.shutdown(timeout=2)
