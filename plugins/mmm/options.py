"""The options of the mmm model (their JSON Schema is what clients draw)."""

from __future__ import annotations

from pydantic import Field

from scorehost.core.requests import Options


class MMMOptions(Options):
    temperature: float = Field(default=1.0, gt=0, le=3, description="Sampling temperature.")
    top_p: float = Field(
        default=0.95,
        gt=0,
        le=1,
        description="Nucleus sampling: draw from the smallest set of tokens this likely.",
    )
    candidates: int = Field(
        default=1,
        ge=1,
        le=8,
        description="Fills drawn for each variation, of which the one the network finds most likely "
        "(mean log-probability per token) is returned: steadier fills, at the cost of decoding that many.",
    )
    context_bars: int = Field(
        default=4,
        ge=0,
        le=7,
        description="Bars of context read on each side of the bars being filled, at most (a window holds 8 bars in all, as in training).",
    )
    allow_silence: bool = Field(
        default=False,
        description="Let a filled track come back with no notes at all (by default every region gets at least one).",
    )
    density_floor: float = Field(
        default=0.5,
        ge=0,
        le=1,
        description="Each filled bar holds at least this share of the notes per bar where the track's density "
        "level starts (measured on the bars around it, or asked for with note_density), so a busy track's bars "
        "do not come back nearly empty. 0: the network alone decides.",
    )
    repetition: float = Field(
        default=1.0,
        ge=0,
        le=1,
        description="How closely a filled bar follows the nearest bar of its track, scaled by how much the track "
        "repeats itself around the fill: a groove that repeats exactly is followed closely (never wholly, so "
        "variations differ), a line that never repeats is left to the network. 0: the network alone decides.",
    )
