"""How much a filled bar leans on a bar of its own track: the copy half of the sampling mixture.

A drum groove, a bass riff or an accompaniment pattern repeats bar for bar, and a small
network does not repeat it as exactly as it repeats (its fills came out half as dense as mma's
grooves, and a copy of the nearest bar beat it there). So each filled bar gets a source, the
nearest bar of its track that holds notes, and the sampler mixes the network's distribution
with a copy of that source's next token (grammar.Copy, a neural-cache mixture after Grave et
al. 2017). The copy's weight is the option `repetition` times the square root of how much the
track repeats itself in the bars around the fill (Jaccard similarity of consecutive bars:
onsets for the events, onset-and-pitch pairs for the pitches). A track that never repeats is
left to the network; a groove that repeats exactly is followed closely and still varied by
the network's share. The bar may not end before the copy's share of its source's notes are
written (window._fewest): one early end drawn from the network would cut a groove's bar short.
"""

from __future__ import annotations

from itertools import pairwise

from scorehost.core.score import Bar
from scorehost.plugins.lib.bartokens import bar_tokens
from scorehost.plugins.lib.vocab import Vocab

SOURCE_REACH = 8  # bars: a source farther from the filled bar than this is no guide to it
MOST = 0.95  # the copy's largest share: the network always keeps some say


def source_tokens(notes, bars: list[Bar], bar: Bar, is_drum: bool, unknown: set[int], vocab: Vocab):
    """The tokens of the nearest bar of the track (notes: its notes) with notes, the same meter
    and length, that is neither being written nor still to be written (unknown); None if none."""
    meter = (bar.time_signature.numerator, bar.time_signature.denominator)
    near = sorted(
        (i for i in range(len(bars)) if 0 < abs(i - bar.index) <= SOURCE_REACH and i not in unknown),
        key=lambda i: (abs(i - bar.index), i),
    )
    for i in near:
        other = bars[i]
        if (other.time_signature.numerator, other.time_signature.denominator) != meter:
            continue
        if other.end - other.start != bar.end - bar.start:
            continue
        tokens = bar_tokens([n for n in notes if other.start <= n.start < other.end], other, is_drum, vocab)
        if tokens:
            return tokens
    return None


def copy_weights(share: float, rhythm: float, pitch: float) -> tuple[float, float]:
    """The copy's weights for onsets and pitches: the option's share times the square root of
    how much the track repeats (chosen on the valid split over the powers 1, 1/2 and 1/3: a
    Jaccard similarity of 0.7 between consecutive bars of a groove still means most of a bar
    is its neighbour's), never all of it, so variations still differ."""
    return min(MOST, share * rhythm**0.5), min(MOST, share * pitch**0.5)


def repeats(cells: list[list[int]], vocab: Vocab) -> tuple[float, float]:
    """(onsets, onset-and-pitch pairs): the mean Jaccard similarity of consecutive known,
    non-empty bars of a track; (0, 0) with fewer than two."""
    notes = [_onsets(c, vocab) for c in cells if c]
    if len(notes) < 2:
        return 0.0, 0.0
    pairs = list(pairwise(notes))
    rhythm = sum(_jaccard({p for p, _ in a}, {p for p, _ in b}) for a, b in pairs) / len(pairs)
    pitch = sum(_jaccard(a, b) for a, b in pairs) / len(pairs)
    return rhythm, pitch


def _onsets(tokens: list[int], vocab: Vocab) -> set[tuple[int, int]]:
    kinds, out, position = vocab.token_kind, set(), -1
    for t in tokens:
        if kinds[t] == "Position":
            position = t
        elif kinds[t] in ("Pitch", "PitchDrum"):
            out.add((position, t))
    return out


def _jaccard(a: set, b: set) -> float:
    return len(a & b) / len(a | b) if a or b else 1.0
