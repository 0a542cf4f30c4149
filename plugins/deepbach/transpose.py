"""Moving a request into the soprano's range for sampling, and the result back."""

from __future__ import annotations

from scorehost.core.errors import RequestError
from scorehost.core.regions import is_written, spans_by_track
from scorehost.core.requests import EditRequest, PinnedNotes, PitchClasses, PitchRange
from scorehost.core.score import PITCH_NAMES, Score

from .encoding import Vocab, voice_tracks


def melody_shift(request: EditRequest, vocab: Vocab) -> int:
    """Semitones to move the score so the soprano's kept notes lie in its range (0: none needed)."""
    score = request.score
    soprano = voice_tracks(score)[0]
    spans = spans_by_track(request.regions)
    pitches = [n.pitch for n in score.tracks[soprano].notes if not is_written(spans, soprano, n.start)]
    if not pitches:
        return 0
    low, high = vocab.ranges[0]
    fits = [s for s in range(-24, 25) if low <= min(pitches) + s and max(pitches) + s <= high]
    if not fits:
        track = score.tracks[soprano]
        # name the track as the user knows it: it may be a violin read as the soprano
        raise RequestError(
            f"track {soprano} ({track.name or track.role or 'unnamed'}), which deepbach reads as the "
            f"soprano, spans {_name(min(pitches))}..{_name(max(pitches))}, wider than the soprano "
            f"range deepbach writes ({_name(low)}..{_name(high)}), so no transposition fits it; "
            "deepbach writes four-voice chorales (soprano, alto, tenor, bass)"
        )
    return min(fits, key=lambda s: (abs(s), s))


def silent_melody(request: EditRequest) -> str | None:
    """A warning when the regions reach past the end of the soprano's notes: deepbach rests the
    other voices with a silent soprano, so those bars come back empty (a score often runs on
    past its melody), and the user should know why."""
    score = request.score
    soprano = voice_tracks(score)[0]
    notes = score.tracks[soprano].notes
    end = max((n.end for n in notes), default=0)
    written = [r.end for r in request.regions if r.track != soprano and r.end > end]
    if not notes or not written:
        return None
    where = _bar_beat(score, end)
    track = score.tracks[soprano]
    return (
        f"the melody (track {soprano}, {track.name or track.role or 'unnamed'}) ends at {where}; "
        "deepbach harmonizes a melody where it sounds, so the other voices rest after it"
    )


def _bar_beat(score: Score, tick: int) -> str:
    """'bar 15 beat 4', bars numbered as printed."""
    bar = score.bar_at(tick)
    beat_ticks = bar.time_signature.bar_ticks // bar.time_signature.numerator
    beat = (tick - bar.start) / beat_ticks + 1
    return f"bar {bar.number} beat {beat:g}" if beat != 1 else f"the start of bar {bar.number}"


def _name(pitch: int) -> str:
    """MIDI 60 -> 'C4 (60)'."""
    return f"{PITCH_NAMES[pitch % 12]}{pitch // 12 - 1} ({pitch})"


def transpose_score(score: Score, shift: int) -> Score:
    tracks = [
        t.model_copy(
            update={"notes": [n.model_copy(update={"pitch": _clip(n.pitch + shift)}) for n in t.notes]}
        )
        for t in score.tracks
    ]
    keys = [k.model_copy(update={"tonic": (k.tonic + shift) % 12}) for k in score.keys]
    return score.model_copy(update={"tracks": tracks, "keys": keys})


def transpose_request(request: EditRequest, shift: int) -> EditRequest:
    constraints = []
    for c in request.constraints:
        if isinstance(c, PinnedNotes):
            notes = [p.model_copy(update={"pitch": _clip(p.pitch + shift)}) for p in c.notes]
            c = c.model_copy(update={"notes": notes})
        elif isinstance(c, PitchRange):
            c = c.model_copy(update={"low": _clip(c.low + shift), "high": _clip(c.high + shift)})
        elif isinstance(c, PitchClasses):
            c = c.model_copy(update={"pitch_classes": sorted({(p + shift) % 12 for p in c.pitch_classes})})
        constraints.append(c)
    return request.model_copy(
        update={"score": transpose_score(request.score, shift), "constraints": constraints}
    )


def _clip(pitch: int) -> int:
    return min(127, max(0, pitch))
