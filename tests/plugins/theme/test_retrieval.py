"""Theme retrieval on real folk tunes of music21's corpus: the repeated opening phrase of a tune
whose structure is known, repeats written out, transposed repeats, tunes with no theme."""

from __future__ import annotations

from functools import cache

from music21 import corpus

from scorehost.core.musicxml import score_from_music21
from scorehost.core.score import Note, Score, Track
from scorehost.plugins.theme.retrieval import expanded, find_theme, similarity

ONEILLS = "oneills1850"
DANIEL_OCONNELL = 43  # "She's A Daughter of Daniel O'Connell": A B A C D E, 4-bar phrases, an upbeat
FUN_AT_DONNYBROOK = 4  # "The Fun at Donnybrook": 11 bars, no phrase comes back
AT_MIDNIGHT_HOUR = 40  # "At Midnight Hour": A B C, nothing repeats
REEL = "ryansMammoth/7thRegimentReel"  # two 8-bar strains, each between repeat signs


@cache
def oneills(index: int) -> Score:
    return score_from_music21(corpus.parse(ONEILLS).scores[index])


def test_the_repeated_opening_phrase_of_an_aaba_tune_is_the_theme():
    score = oneills(DANIEL_OCONNELL)
    found = find_theme(score)
    assert found is not None and found.bars == 4
    bars = score.bars()
    assert bars[0].is_partial  # the tune opens on an upbeat, which the theme keeps
    # bars 1-4 with the upbeat before them, up to the next phrase's upbeat
    assert (found.theme.bar, found.theme.start, found.theme.end) == (1, 0, bars[5].start - 480)
    # the A phrase comes back at bar 9 (after B) and at bar 26, in the second strain
    assert [o.bar for o in found.occurrences] == [1, 9, 26]
    assert all(o.transposition == 0 and o.similarity == 1.0 for o in found.occurrences)


def test_repeats_written_out_make_the_whole_opening_phrase_the_theme():
    tune = corpus.parse(REEL)
    as_written = find_theme(score_from_music21(tune))
    # Read as notated, bars 1-4 and 5-8 differ in their last bar: only half a phrase repeats.
    assert as_written is not None and as_written.bars == 2
    score = score_from_music21(expanded(tune))
    assert len(score.bars()) == 2 * len(score_from_music21(tune).bars())
    found = find_theme(score)
    assert found is not None and found.bars == 4
    assert [o.bar for o in found.occurrences][:2] == [0, 8]  # the opening, and its repeat


def test_a_transposed_repeat_is_found_with_its_transposition():
    score = oneills(DANIEL_OCONNELL)
    bars = score.bars()
    phrase = [n for n in score.tracks[0].notes if n.start < bars[5].start - 480]
    # The first 8 bars, then the opening phrase (upbeat included) a fourth higher as bars 9-12.
    offset = bars[9].start - 480
    head = [n for n in score.tracks[0].notes if n.start < offset]
    moved = [n.model_copy(update={"start": n.start + offset, "pitch": n.pitch + 5}) for n in phrase]
    track = score.tracks[0].model_copy(update={"notes": head + moved})
    made = score.model_copy(update={"tracks": [track], "length": bars[13].start})
    found = find_theme(made)
    assert found is not None and found.theme.bar == 1
    assert [(o.bar, o.transposition) for o in found.occurrences] == [(1, 0), (9, 5)]


def test_tunes_in_which_nothing_repeats_have_no_theme():
    assert find_theme(oneills(FUN_AT_DONNYBROOK)) is None
    assert find_theme(oneills(AT_MIDNIGHT_HOUR)) is None
    assert find_theme(Score(length=1920, tracks=[Track(notes=[])])) is None


def test_before_limits_the_search_to_the_context_before_a_region():
    score = oneills(DANIEL_OCONNELL)
    bars = score.bars()
    found = find_theme(score, before=bars[13].start)
    assert found is not None and [o.bar for o in found.occurrences] == [1, 9]
    assert all(o.end <= bars[13].start for o in found.occurrences)


def test_a_theme_before_a_region_may_recur_after_it():
    score = oneills(DANIEL_OCONNELL)
    bars = score.bars()
    region = (bars[9].start, bars[25].start)  # the second A (bar 9) is written over
    assert find_theme(score, before=region[0]) is None  # bars 1-8 are A B: nothing repeats
    found = find_theme(score, theme_by=region[0], skip=(region,))
    assert found is not None and found.bars == 4
    assert [o.bar for o in found.occurrences] == [1, 26]
    assert found.theme.end <= region[0]
    # a group whose earliest member is past theme_by is passed over
    assert find_theme(score, theme_by=bars[2].start) is None


def test_retrieval_is_deterministic():
    for index in (DANIEL_OCONNELL, 14, 15, 37):
        score = oneills(index)
        first = find_theme(score)
        assert first == find_theme(score) == find_theme(score.model_copy(deep=True))


def test_similarity_is_transposition_invariant_and_symmetric():
    a = ((0, 60), (480, 62), (960, 64), (1440, 65))
    b = tuple((t, p + 7) for t, p in a)
    assert similarity(a, b) == (1.0, 7)
    assert similarity(b, a) == (1.0, -7)
    c = ((0, 60), (480, 62), (960, 63), (1440, 65))
    assert similarity(a, c)[0] == similarity(c, a)[0] == 0.75


def test_ties_between_groups_go_to_the_earliest_theme():
    # Two motifs, each stated twice: B first at bar 0 (and bar 6), A at bar 2 (and bar 4).
    bar = 1920
    a = [(0, 60), (480, 64), (960, 67), (1440, 72)]
    b = [(0, 62), (240, 61), (480, 59), (720, 57), (1440, 55)]

    def at(motif, first_bar):
        return [Note(start=first_bar * bar + t, duration=240, pitch=p) for t, p in motif]

    notes = at(b, 0) + at(a, 2) + at(a, 4) + at(b, 6)
    found = find_theme(Score(length=8 * bar, tracks=[Track(notes=sorted(notes, key=Note.key))]))
    assert found is not None and found.bars == 2
    assert [o.bar for o in found.occurrences] == [0, 6]


def test_the_theme_is_the_earliest_member_of_the_largest_group_not_its_centre():
    # X at bar 0, Y at bar 4, Z at bar 8: Y shares 6 of 8 notes with X and with Z, but X and Z
    # only 4. Y's group {X, Y, Z} is the largest; its earliest member, X, is the theme.
    bar = 1920
    x = [60, 62, 64, 65, 67, 69, 71, 72]
    y = [60, 62, 64, 65, 67, 69, 50, 48]  # X with its last two notes changed
    z = [80, 82, 64, 65, 67, 69, 50, 48]  # Y with its first two changed

    def at(pitches, first_bar):
        return [Note(start=first_bar * bar + i * 480, duration=480, pitch=p) for i, p in enumerate(pitches)]

    notes = at(x, 0) + at(y, 4) + at(z, 8)
    found = find_theme(Score(length=12 * bar, tracks=[Track(notes=notes)]))
    assert found is not None and found.theme.bar == 0
    assert [(o.bar, o.similarity) for o in found.occurrences] == [(0, 1.0), (4, 0.75), (8, 0.5)]
