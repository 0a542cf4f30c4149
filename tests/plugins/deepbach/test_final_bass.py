"""The final chord's bass is the key's tonic (problem._tonic_bass_at_the_end, a hard rule), over
seeds, melodies and meters, measured as the eval measures it; pins, regions and the option
switched off are respected."""

from __future__ import annotations

import numpy as np
import pytest

from scorehost.core.requests import EditRequest, KeepRhythm, PinnedNote, PinnedNotes, Region
from scorehost.core.score import Track
from scorehost.plugins.deepbach.encoding import voice_tracks
from scorehost.plugins.deepbach.evaluate import folk_melody
from scorehost.plugins.deepbach.measures import Voices, cadences
from scorehost.plugins.deepbach.model import DeepBach
from scorehost.plugins.deepbach.problem import build_problem


def _melody_only(score):
    voices = [Track(name=r.capitalize(), role=r) for r in ("alto", "tenor", "bass")]
    soprano = score.tracks[voice_tracks(score)[0]].model_copy(update={"role": "soprano"})
    return score.model_copy(update={"tracks": [soprano, *voices]})


def _harmonize(score, constraints=()) -> EditRequest:
    regions = [Region(track=t, start=0, end=score.length) for t in voice_tracks(score)[1:]]
    return EditRequest(model="deepbach", score=score, regions=regions, constraints=list(constraints))


def _final_bass(score) -> tuple[int | None, int]:
    """(the bass pitch sounding at the end, the key's tonic there), as measures.cadences reads them."""
    voices = Voices(score, voice_tracks(score))
    end = voices.end()
    return voices.at(3, end - 1), score.key_at(end - 1).tonic


MELODIES = {
    "bwv66.6 (F# minor, pickup, fermatas)": lambda chorale: _melody_only(chorale("bach/bwv66.6")),
    "bwv269 (C major)": lambda chorale: _melody_only(chorale("bach/bwv269")),
    "kinder0 6 (6/8, ends on an offbeat eighth)": lambda chorale: folk_melody("kinder0", 6),
    "altdeu10 6 (3/4)": lambda chorale: folk_melody("altdeu10", 6),
}


@pytest.mark.parametrize("name", list(MELODIES))
def test_the_final_chord_has_the_tonic_in_the_bass_whatever_the_seed(name, chorale, tiny_net, vocab, job):
    score = MELODIES[name](chorale)
    request = _harmonize(score)
    model = DeepBach(net=tiny_net(), vocab=vocab)  # a random network: only the rule brings the tonic
    for seed in range(0, 40, 8):
        for variation in model.inpaint(request, model.Options(seed=seed, variations=4, iterations=4), job):
            bass, tonic = _final_bass(variation.score)
            assert bass is not None and bass % 12 == tonic, (seed, bass, tonic)
            low, high = vocab.ranges[3]
            assert low <= bass <= high
            voices = Voices(variation.score, voice_tracks(variation.score))
            assert cadences(voices)["final_tonic_bass"] == 1


def test_a_transposed_melody_ends_on_its_own_tonic(chorale, tiny_net, vocab, job):
    score = _melody_only(chorale("bach/bwv66.6"))
    down = min(n.pitch for n in score.tracks[0].notes) - 53  # F3: sampled seven semitones higher
    notes = [n.model_copy(update={"pitch": n.pitch - down}) for n in score.tracks[0].notes]
    keys = [k.model_copy(update={"tonic": (k.tonic - down) % 12}) for k in score.keys]
    tracks = [score.tracks[0].model_copy(update={"notes": notes}), *score.tracks[1:]]
    low = score.model_copy(update={"tracks": tracks, "keys": keys})
    model = DeepBach(net=tiny_net(), vocab=vocab)
    for seed in (0, 7, 21):
        for variation in model.inpaint(
            _harmonize(low), model.Options(seed=seed, variations=2, iterations=4), job
        ):
            bass, tonic = _final_bass(variation.score)
            assert bass is not None and bass % 12 == tonic


def test_keep_rhythm_keeps_the_bass_rhythm_and_ends_on_the_tonic(chorale, tiny_net, vocab, job):
    score = chorale("bach/bwv269")
    request = _harmonize(score, [KeepRhythm()])
    model = DeepBach(net=tiny_net(), vocab=vocab)
    for seed in (0, 5, 10):
        for variation in model.inpaint(request, model.Options(seed=seed, variations=2, iterations=4), job):
            onsets = [(n.start, n.duration) for n in variation.score.tracks[3].sorted_notes()]
            assert onsets == [(n.start, n.duration) for n in score.tracks[3].sorted_notes()]
            bass, tonic = _final_bass(variation.score)
            assert bass % 12 == tonic


def test_a_pinned_bass_at_the_end_is_kept_and_a_context_bass_is_not_touched(chorale, tiny_net, vocab, job):
    score = _melody_only(chorale("bach/bwv269"))
    end = max(n.end for n in score.tracks[0].notes)
    last = max(score.tracks[0].notes, key=lambda n: n.start)
    tonic = score.key_at(end - 1).tonic
    third = 48 + (tonic + 4) % 12  # the third of the tonic in the bass: an inverted final chord
    pin = PinnedNotes(notes=[PinnedNote(track=3, start=last.start, pitch=third, duration=last.duration)])
    model = DeepBach(net=tiny_net(), vocab=vocab)
    for variation in model.inpaint(
        _harmonize(score, [pin]), model.Options(seed=3, variations=3, iterations=4), job
    ):
        assert _final_bass(variation.score)[0] == third
    bach = chorale("bach/bwv269")  # alto and tenor rewritten: the bass is context and stays Bach's
    regions = [Region(track=t, start=0, end=bach.length) for t in (1, 2)]
    request = EditRequest(model="deepbach", score=bach, regions=regions)
    for variation in model.inpaint(request, model.Options(seed=3, variations=2, iterations=4), job):
        assert variation.score.tracks[3] == bach.tracks[3]


def test_the_rule_is_an_option_and_touches_only_the_final_chord(chorale, vocab):
    score = folk_melody("kinder0", 6)
    request = _harmonize(score)
    ruled = build_problem(request, vocab)
    free = build_problem(request, vocab, final_tonic_bass=False)
    changed = np.flatnonzero((ruled.allowed != free.allowed).any(axis=-1).any(axis=0))
    assert (ruled.allowed <= free.allowed).all()  # the rule only takes tokens away
    assert (ruled.allowed != free.allowed)[:3].sum() == 0  # from the bass alone
    end = max(n.end for n in score.tracks[0].notes)
    assert changed.size and changed[0] * 120 == 10800 and changed[-1] * 120 < end  # the last dotted beat
    assert DeepBach.Options(final_tonic_bass=False).final_tonic_bass is False
