"""scorehost fill: a REAPER script (Python ReaScript) that fills the time selection of the
selected MIDI items with a scorehost model.

Select one or more MIDI items (on one or more tracks), make a time selection, run the script.
Every selected item's track becomes a track of the score; the notes of the selected items
outside the time selection, and (optionally) the MIDI items of the other tracks under the
selection, are the context. The notes inside the time selection on the selected items are
replaced by the model's, in one undo step. Each track carries its General MIDI program (the
take's first program change) and whether it is a drum track (its notes are on channel 10, or
it has none and its name says drums), so a multi-track model writes the right instrument;
an empty selected item asks for a new part.

It talks to `scorehost serve` (HTTP bridge, default http://127.0.0.1:8765) with only the
standard library, so REAPER's Python needs nothing installed. The job runs on the server while
REAPER stays responsive (progress in the status area); running the action again while a fill
runs, and letting REAPER terminate the instance, cancels it. Settings (server, model, model
options, constraints, context, token) are asked in a small dialog the first time, or every time with the
"ask" setting, and kept in REAPER's ExtState.

Install: Actions > Show action list > New action > Load ReaScript..., pick this file (REAPER
must have Python enabled under Preferences > Plug-ins > ReaScript).
"""

from __future__ import annotations

import contextlib
import json
import time
import urllib.error
import urllib.request

SECTION = "scorehost"
TICKS_PER_QUARTER = 480
DRUM_CHANNEL = 9  # MIDI channel 10, General MIDI's percussion (REAPER counts channels from 0)
PROGRAM_CHANGE = 0xC0
FIELDS = (
    ("url", "Server URL", "http://127.0.0.1:8765"),
    # mmm fills any tracks, drums included; deepbach only four-voice (SATB) chorales
    ("model", "Model", "mmm"),
    ("options", "Options (k=v k=v)", ""),
    # short forms as on the command line, spaces between: theme:1-4 (bars from the project's
    # start) develops bars 1-4 in the selection with the theme model; range:0:C3-C5, key:D-minor
    ("constraints", "Constraints (theme:1-4 ...)", ""),
    ("context", "Other tracks as context (y/n)", "y"),
    ("token", "Token (if the server has one)", ""),
    ("ask", "Ask every time (y/n)", "y"),
)
TIMEOUT = 600


class FillError(Exception):
    """A problem the user can fix; shown in a message box."""


class Reaper:
    """The ReaScript calls this script uses, by their names without the RPR_ prefix."""

    def __init__(self, namespace: dict):
        self.namespace = namespace

    def __getattr__(self, name: str):
        return self.namespace["RPR_" + name]


# ---- settings ---------------------------------------------------------------------------


def load_settings(api) -> dict:
    found = {}
    for key, _caption, default in FIELDS:
        value = api.GetExtState(SECTION, key)
        found[key] = value if value else default
    return found


def ask_settings(api, current: dict) -> dict | None:
    """REAPER's GetUserInputs dialog; None if cancelled. Values may not contain commas."""
    captions = ",".join(caption for _key, caption, _default in FIELDS) + ",extrawidth=220"
    values = ",".join(current[key].replace(",", " ") for key, _c, _d in FIELDS)
    answer = api.GetUserInputs("scorehost fill", len(FIELDS), captions, values, 4096)
    if not answer[0]:
        return None
    parts = answer[4].split(",")
    chosen = {key: (parts[i].strip() if i < len(parts) else "") for i, (key, _c, _d) in enumerate(FIELDS)}
    for key, value in chosen.items():
        api.SetExtState(SECTION, key, value, True)
    return chosen


def parse_options(text: str) -> dict:
    options = {}
    for pair in text.split():
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise FillError(f"write options as key=value separated by spaces, not {pair!r}")
        try:
            options[key] = json.loads(value)
        except ValueError:
            options[key] = value
    return options


# ---- reading the project ----------------------------------------------------------------


def _tick(qn: float) -> int:
    return int(round(qn * TICKS_PER_QUARTER))


def _midi_takes(api, items):
    for item in items:
        take = api.GetActiveTake(item)
        if take and api.TakeIsMIDI(take):
            yield item, take


def _item_span(api, item) -> tuple[int, int]:
    position = api.GetMediaItemInfo_Value(item, "D_POSITION")
    length = api.GetMediaItemInfo_Value(item, "D_LENGTH")
    return _tick(api.TimeMap2_timeToQN(0, position)), _tick(api.TimeMap2_timeToQN(0, position + length))


def _new_track(api, track) -> dict:
    return {"name": _track_name(api, track), "notes": [], "channels": set(), "program": None}


def _track_name(api, track) -> str:
    name = api.GetSetMediaTrackInfo_String(track, "P_NAME", "", False)[3]
    number = int(api.GetMediaTrackInfo_Value(track, "IP_TRACKNUMBER"))
    return name or f"Track {number}"


def read_notes(api, take, channels: set | None = None) -> list[dict]:
    """The unmuted notes of a take, in ticks from the start of the project; their MIDI channels
    are added to `channels`."""
    count = api.MIDI_CountEvts(take, 0, 0, 0)[2]
    notes = []
    for index in range(count):
        _ok, _take, _i, _selected, muted, start, end, chan, pitch, velocity = api.MIDI_GetNote(
            take, index, 0, 0, 0, 0, 0, 0, 0
        )
        if muted:
            continue
        if channels is not None:
            channels.add(int(chan))
        first = _tick(api.MIDI_GetProjQNFromPPQPos(take, start))
        last = _tick(api.MIDI_GetProjQNFromPPQPos(take, end))
        notes.append(
            {
                "start": first,
                "duration": max(1, last - first),
                "pitch": int(pitch),
                "velocity": max(1, int(velocity)),
            }
        )
    return notes


def read_program(api, take) -> int | None:
    """The program of the take's first program change, if it has one."""
    count = api.MIDI_CountEvts(take, 0, 0, 0)[3]
    for index in range(count):
        _ok, _take, _i, _selected, muted, _ppq, chanmsg, _chan, msg2, _msg3 = api.MIDI_GetCC(
            take, index, 0, 0, 0, 0, 0, 0, 0
        )
        if not muted and int(chanmsg) == PROGRAM_CHANGE:
            return int(msg2)
    return None


def _add_take(api, tracks: list[dict], track_index: int, take) -> None:
    entry = tracks[track_index]
    entry["notes"] += read_notes(api, take, entry["channels"])
    if entry["program"] is None:
        entry["program"] = read_program(api, take)


def _finish_tracks(tracks: list[dict]) -> None:
    """Turn what was read into score-JSON tracks: drum flag and program."""
    for entry in tracks:
        channels, program = entry.pop("channels"), entry.pop("program")
        entry["is_drum"] = channels == {DRUM_CHANNEL} or (not channels and "drum" in entry["name"].lower())
        entry["program"] = 0 if entry["is_drum"] or program is None else program


def encode_selection(api, settings: dict) -> tuple[dict, dict]:
    """The edit request for the selection, and the plan for writing the answer back."""
    _set, _loop, sel_start, sel_end, _seek = api.GetSet_LoopTimeRange(False, False, 0, 0, False)
    if sel_end <= sel_start:
        raise FillError("make a time selection over the bars to fill")
    start, end = _tick(api.TimeMap2_timeToQN(0, sel_start)), _tick(api.TimeMap2_timeToQN(0, sel_end))
    selected = [api.GetSelectedMediaItem(0, i) for i in range(api.CountSelectedMediaItems(0))]
    chosen = list(_midi_takes(api, selected))
    if not chosen:
        raise FillError("select the MIDI items to fill")
    tracks: list[dict] = []
    index_of: dict = {}  # REAPER track -> score track
    plan = {"start": start, "end": end, "takes": []}
    length = end
    for item, take in chosen:
        track = api.GetMediaItem_Track(item)
        if track not in index_of:
            index_of[track] = len(tracks)
            tracks.append(_new_track(api, track))
        _add_take(api, tracks, index_of[track], take)
        item_start, item_end = _item_span(api, item)
        length = max(length, item_end)
        plan["takes"].append({"take": take, "track": index_of[track], "start": item_start, "end": item_end})
    written = len(tracks)
    if settings.get("context", "y").lower().startswith("y"):
        others = [api.GetMediaItem(0, i) for i in range(api.CountMediaItems(0))]
        for item, take in _midi_takes(api, others):
            track = api.GetMediaItem_Track(item)
            if item in selected or (track in index_of and index_of[track] < written):
                continue
            item_start, item_end = _item_span(api, item)
            if item_end <= start or item_start >= end:
                continue  # context far from the selection is left out
            if track not in index_of:
                index_of[track] = len(tracks)
                tracks.append(_new_track(api, track))
            _add_take(api, tracks, index_of[track], take)
            length = max(length, item_end)
    _finish_tracks(tracks)
    for entry in plan["takes"]:  # notes written into an empty take go on the track's channel
        entry["channel"] = DRUM_CHANNEL if tracks[entry["track"]]["is_drum"] else 0
    _proj, _time, numerator, denominator, bpm = api.TimeMap_GetTimeSigAtTime(0, sel_start, 0, 0, 0)
    bar = int(numerator) * TICKS_PER_QUARTER * 4 // int(denominator)
    score = {
        "title": "REAPER selection",
        "length": -(-length // bar) * bar,
        "tracks": tracks,
        "time_signatures": [{"tick": 0, "numerator": int(numerator), "denominator": int(denominator)}],
        "tempos": [{"tick": 0, "bpm": float(bpm)}],
    }
    body = {
        "model": settings["model"],
        "score": score,
        "regions": [{"track": i, "start": start, "end": end} for i in range(written)],
        "options": parse_options(settings.get("options", "")),
    }
    constraints = settings.get("constraints", "").split()
    if constraints:
        body["constraints"] = constraints
    return body, plan


# ---- writing the answer -----------------------------------------------------------------


def apply_result(api, plan: dict, score: dict) -> int:
    """Replace the notes in the selection of each selected take by the result's; returns how many."""
    start, end = plan["start"], plan["end"]
    inserted = 0
    for entry in plan["takes"]:
        take = entry["take"]
        count = api.MIDI_CountEvts(take, 0, 0, 0)[2]
        channel = entry.get("channel", 0)  # the take's own notes' channel wins below
        for index in reversed(range(count)):
            note = api.MIDI_GetNote(take, index, 0, 0, 0, 0, 0, 0, 0)
            channel = int(note[7])
            tick = _tick(api.MIDI_GetProjQNFromPPQPos(take, note[5]))
            if start <= tick < end and entry["start"] <= tick < entry["end"]:
                api.MIDI_DeleteNote(take, index)
        low, high = max(start, entry["start"]), min(end, entry["end"])
        for note in score["tracks"][entry["track"]]["notes"]:
            if low <= note["start"] < high:
                first = api.MIDI_GetPPQPosFromProjQN(take, note["start"] / TICKS_PER_QUARTER)
                stop = min(note["start"] + note["duration"], entry["end"])
                last = api.MIDI_GetPPQPosFromProjQN(take, stop / TICKS_PER_QUARTER)
                api.MIDI_InsertNote(
                    take, False, False, first, last, channel, note["pitch"], note["velocity"], True
                )
                inserted += 1
        api.MIDI_Sort(take)
    return inserted


# ---- talking to the server --------------------------------------------------------------


def http(settings: dict, method: str, path: str, body: dict | None = None) -> dict:
    """One JSON request to the HTTP bridge; raises FillError with the server's message."""
    url = settings["url"].rstrip("/") + path
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, method=method)
    request.add_header("Content-Type", "application/json")
    if settings.get("token"):
        request.add_header("Authorization", "Bearer " + settings["token"])
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:
            return json.loads(answer.read())
    except urllib.error.HTTPError as exc:
        try:
            message = json.loads(exc.read())["error"]["message"]
        except Exception:
            message = f"HTTP {exc.code}"
        raise FillError(f"scorehost refused: {message}") from None
    except (urllib.error.URLError, OSError) as exc:
        raise FillError(f"cannot reach scorehost at {url} ({exc}); is `scorehost serve` running?") from None


class Fill:
    """One fill: submit a job, poll it from REAPER's defer loop (the UI stays responsive, the
    progress shows in the status area), then write the notes. Stopping the script (running the
    action again, or REAPER asking to terminate it) cancels the job."""

    def __init__(self, api, settings: dict, request=http):
        self.api, self.settings, self.request = api, settings, request
        self.job: str | None = None
        self.plan: dict = {}
        self.started = 0.0
        self.written: int | None = None

    def start(self) -> bool:
        body, self.plan = encode_selection(self.api, self.settings)
        self.job = self.request(self.settings, "POST", "/v1/jobs", body)["id"]
        self.started = time.monotonic()
        return True

    def poll(self) -> bool:
        """One step; True while the job runs (call again later)."""
        summary = self.request(self.settings, "GET", f"/v1/jobs/{self.job}")
        if summary["status"] in ("queued", "running"):
            if time.monotonic() - self.started > TIMEOUT:
                self.cancel()
                raise FillError(f"the fill took longer than {TIMEOUT} s; cancelled it")
            self.api.Help_Set(f"scorehost: {summary['status']} {summary['progress'] * 100:.0f}%", False)
            return True
        job, self.job = self.job, None
        if summary["status"] != "done":
            error = summary.get("error") or {}
            raise FillError(f"the fill {summary['status']}: {error.get('message', '')}")
        result = self.request(self.settings, "GET", f"/v1/jobs/{job}/result")
        self.api.Undo_BeginBlock()
        try:
            self.written = apply_result(self.api, self.plan, result["variations"][0]["score"])
        finally:
            self.api.Undo_EndBlock("scorehost fill", -1)
        self.api.UpdateArrange()
        self.api.Help_Set(f"scorehost: wrote {self.written} notes", False)
        for warning in result.get("warnings", []):
            self.api.ShowConsoleMsg(f"scorehost: {warning}\n")
        return False

    def cancel(self) -> None:
        if self.job is not None:
            job, self.job = self.job, None
            with contextlib.suppress(FillError):  # the server is gone: nothing left to cancel
                self.request(self.settings, "DELETE", f"/v1/jobs/{job}")


_current: Fill | None = None


def _scorehost_poll() -> None:
    """Called by REAPER's defer loop."""
    global _current
    if _current is None:
        return
    try:
        if _current.poll():
            _current.api.defer("_scorehost_poll()")
            return
    except FillError as exc:
        _current.api.ShowMessageBox(str(exc), "scorehost fill", 0)
    _current = None


def _scorehost_exit() -> None:
    """REAPER calls this when the script stops: a fill still running is cancelled."""
    global _current
    if _current is not None:
        _current.cancel()
    _current = None


def main(api, request=http) -> Fill | None:
    """Ask, submit and start polling; returns the fill (its .written is set once it is done)."""
    global _current
    settings = load_settings(api)
    if settings.get("ask", "y").lower().startswith("y") or not api.GetExtState(SECTION, "model"):
        settings = ask_settings(api, settings)
        if settings is None:
            return None
    fill = Fill(api, settings, request)
    try:
        fill.start()
    except FillError as exc:
        api.ShowMessageBox(str(exc), "scorehost fill", 0)
        return None
    _current = fill
    api.atexit("_scorehost_exit()")
    api.Help_Set("scorehost: submitted", False)
    api.defer("_scorehost_poll()")
    return fill


if __name__ == "__main__":
    try:
        from reaper_python import *  # noqa: F403 - REAPER's RPR_ functions
    except ImportError:
        raise SystemExit("run this script inside REAPER (Actions > Load ReaScript)") from None
    main(Reaper(globals()))
