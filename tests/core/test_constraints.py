"""Constraint types own their checks: each is found in core/constraints/, documented, has a
short form, and answers for its own violations."""

from __future__ import annotations

import pkgutil
from pathlib import Path

import pytest

import scorehost.core.constraints as package
from scorehost.core.cliparse import parse_constraint
from scorehost.core.constraints import SHORT_FORMS, TYPES, Outcome
from scorehost.core.errors import RequestError
from scorehost.core.score import Note, Score, Track

DOCS = Path(__file__).parents[2] / "docs"
README = Path(__file__).parents[2] / "README.md"


def test_every_module_of_the_package_is_a_registered_type():
    modules = {m.name for m in pkgutil.iter_modules(package.__path__)} - {"base"}
    assert modules == set(TYPES)


@pytest.mark.parametrize("name", sorted(TYPES))
def test_every_type_is_documented_with_its_short_form(name):
    assert f"| `{name}` |" in (DOCS / "score-json.md").read_text()
    cls = TYPES[name]
    assert cls.short_names, f"{name} has no short form"
    readme = README.read_text()
    for short in cls.short_names:
        assert f"`{short}:" in readme or f"`{short}[" in readme, (
            f"README does not show the short form {short}"
        )


def _score() -> Score:
    notes = [Note(start=i * 480, duration=480, pitch=60 + i) for i in range(4)]
    return Score(tracks=[Track(name="Lead", notes=notes)], length=1920)


def test_each_type_reports_its_own_violations():
    score = _score()
    outcome = Outcome(before=score, after=score, spans={0: [(0, 1920)]})
    broken = {
        "range:0:C4-D4": "outside 60..62",
        "key:C-major": "[61, 63]",
        "pitch-classes:0,2,4": "outside the allowed pitch classes",
        "polyphony:0:1": None,
        "instrument:0:40": "not set to program 40",
        "pin:0:t0:C5": "pinned note 72 at tick 0",
        "density:0:3": None,  # steers only
    }
    for spec, expected in broken.items():
        problems = parse_constraint(score, spec).violations(outcome)
        assert (problems == []) if expected is None else (expected in problems[0]), (spec, problems)


def test_each_type_checks_itself_against_the_score():
    score = _score()
    with pytest.raises(RequestError, match="track 3 does not exist"):
        TYPES["polyphony"](track=3, max_notes=1).check(score, [], "constraints[0]")
    with pytest.raises(RequestError, match="not inside the score"):
        TYPES["theme"](start=0, end=99999).check(score, [], "constraints[0]")


def test_short_forms_name_one_type_each():
    assert set(SHORT_FORMS) >= {
        "range",
        "key",
        "pitch-classes",
        "keep-rhythm",
        "pin",
        "density",
        "polyphony",
        "instrument",
        "theme",
    }
