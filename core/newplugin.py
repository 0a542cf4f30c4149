"""`scorehost new-plugin NAME`: write a new plugin package whose tests pass as written.

The package holds a small but real rule-based model (it writes another track's notes into the
regions, transposed by an interval, folded into any pitch range asked for), the entry point
scorehost finds it by, and tests that use scorehost.core.testing. The templates are strings
in this module, so they ship with any install of scorehost.
"""

from __future__ import annotations

import re
from pathlib import Path
from string import Template

import click

from .errors import RequestError

_NAME = re.compile(r"[a-z][a-z0-9]*(-[a-z0-9]+)*")

PYPROJECT = """\
[build-system]
requires = ["setuptools>=69"]
build-backend = "setuptools.build_meta"

[project]
name = "$dist"
version = "0.1.0"
description = "A scorehost plugin: writes another track's notes into the regions, transposed"
requires-python = ">=3.11"
dependencies = ["scorehost"]

[project.optional-dependencies]
test = ["pytest>=8"]

# scorehost finds the plugin through this entry point (see: scorehost plugins).
[project.entry-points.scorehost]
$slug = "$module"

[tool.setuptools]
py-modules = ["$module"]

[tool.pytest.ini_options]
testpaths = ["tests"]
pythonpath = ["."]  # the tests import $module from here, installed or not

[tool.ruff]
line-length = 110
"""

README = """\
# $dist

A scorehost plugin with one model, `$slug`: it writes the notes of another track into the
regions it is given, transposed by an interval (an octave down by default), moved by octaves
into any pitch range the request sets. Made with `scorehost new-plugin`; rewrite
`$module.py` to make it yours.

Install it beside scorehost, and scorehost finds it through its entry point:

```sh
pip install -e .
scorehost models        # lists $slug
# write a bass an octave below the melody of a one-staff score (the bass track is added)
scorehost edit melody.musicxml -o out.musicxml --model $slug --region bass --option interval=-12
```

Test it (the tests use `scorehost.core.testing`):

```sh
pip install -e '.[test]'
python -m pytest
```
"""

MODULE = '''\
"""A scorehost plugin: the $slug model writes the notes of another track into its regions,
transposed by an interval and moved by octaves into any pitch range the request sets.

scorehost finds this module through the 'scorehost' entry point in pyproject.toml and calls
its register_models hook.
"""

from __future__ import annotations

from pydantic import Field
from scorehost.core import (
    Capabilities,
    EditRequest,
    JobContext,
    Model,
    Options,
    PitchRange,
    RequestError,
    Variation,
    hookimpl,
    merge_result,
)


class ${cls}Options(Options):  # seed and variations come with Options
    source: int | str = Field(default=0, description="Track to copy: number, name or role.")
    interval: int = Field(
        default=-12, ge=-48, le=48, description="Semitones to transpose by (-12: an octave down)."
    )


class $cls(Model):
    model_id = "$slug"
    description = "Rule-based: writes another track's notes into the regions, transposed by an interval."
    capabilities = Capabilities(constraints=frozenset({"pitch_range"}), new_tracks=True, tags=("transpose",))
    Options = ${cls}Options

    def check(self, request: EditRequest, options: ${cls}Options) -> None:
        """Refuse, before the job is queued, what this model cannot do."""
        super().check(request, options)  # refuses constraints not in capabilities.constraints
        source = _source(request, options)
        if request.score.tracks[source].is_drum:  # (drum tracks to write are refused by super())
            raise RequestError("a drum track has no pitches to transpose", "options.source")
        for i, region in enumerate(request.regions):
            if region.track == source:
                raise RequestError(
                    f"track {source} cannot be written from itself; set the source option", f"regions[{i}]"
                )
        for i, constraint in enumerate(request.constraints):
            if isinstance(constraint, PitchRange) and constraint.high - constraint.low < 11:
                raise RequestError(
                    "a pitch range under an octave cannot hold every pitch class", f"constraints[{i}]"
                )

    def inpaint(self, request: EditRequest, options: ${cls}Options, job: JobContext) -> list[Variation]:
        score = request.score
        source = score.tracks[_source(request, options)]
        draft = [track.model_copy(update={"notes": []}) for track in score.tracks]
        for number, region in enumerate(request.regions):
            job.progress(number / len(request.regions))  # raises if the job was cancelled
            low, high = _pitch_range(request, region.track)
            for note in source.notes:
                if region.start <= note.start < region.end:
                    pitch = _fold(note.pitch + options.interval, low, high)
                    draft[region.track].notes.append(note.model_copy(update={"pitch": pitch}))
        # merge_result keeps every note outside the regions as it was, takes the regions' notes
        # from the draft and cuts any that would sound past the end of their region.
        result = merge_result(score, score.model_copy(update={"tracks": draft}), request.regions)
        # A deterministic rule: every variation is the same, with probability one.
        return [Variation(score=result, log_prob=0.0, seed=seed) for seed in options.seeds()]


def _source(request: EditRequest, options: ${cls}Options) -> int:
    try:
        return request.score.track_index(options.source)
    except KeyError as exc:
        raise RequestError(str(exc.args[0]), "options.source") from None


def _pitch_range(request: EditRequest, track: int) -> tuple[int, int]:
    for constraint in request.constraints:
        if isinstance(constraint, PitchRange) and constraint.track == track:
            return constraint.low, constraint.high
    return 0, 127


def _fold(pitch: int, low: int, high: int) -> int:
    """Move pitch by octaves into [low, high] (check() makes sure the range holds an octave)."""
    while pitch < low:
        pitch += 12
    while pitch > high:
        pitch -= 12
    return pitch


@hookimpl
def register_models(register):
    register($cls())
'''

TESTS = '''\
"""Tests of the $slug model. check_model (scorehost.core.testing) runs it the way the engine
does and fails if it changes anything outside its regions, breaks a constraint or returns
the wrong number of variations; each test then checks the notes it wrote."""

import pytest
from scorehost.core import EditRequest, KeepRhythm, Note, PitchRange, Region, RequestError, Score, Track
from scorehost.core.testing import check_model, plugin_models

import $module


@pytest.fixture
def score() -> Score:
    """One bar of 4/4: a C major arpeggio on track 0, and an empty track 1 to write."""
    notes = [Note(start=i * 480, duration=480, pitch=p) for i, p in enumerate([60, 64, 67, 72])]
    return Score(length=1920, tracks=[Track(name="Melody", notes=notes), Track(name="Bass")])


def test_registers_its_model():
    assert list(plugin_models($module)) == ["$slug"]


def test_writes_the_source_transposed(score):
    request = EditRequest(model="$slug", score=score, regions=[Region(track=1, start=0, end=1920)])
    [variation] = check_model($module.$cls(), request, {"interval": -12})
    assert [n.pitch for n in variation.score.tracks[1].notes] == [48, 52, 55, 60]


def test_keeps_what_lies_outside_its_region_and_obeys_a_pitch_range(score):
    score.tracks[1].notes = [Note(start=0, duration=960, pitch=36)]  # the first half is kept
    request = EditRequest(
        model="$slug",
        score=score,
        regions=[Region(track=1, start=960, end=1920)],
        constraints=[PitchRange(track=1, low=40, high=55)],
    )
    variations = check_model($module.$cls(), request, {"interval": -12, "variations": 2})
    assert len(variations) == 2
    written = [(n.start, n.pitch) for n in variations[0].score.tracks[1].notes]
    assert written == [(0, 36), (960, 55), (1440, 48)]  # 67 and 72 an octave down, folded into 40..55


def test_refuses_to_write_a_track_from_itself(score):
    request = EditRequest(model="$slug", score=score, regions=[Region(track=0, start=0, end=1920)])
    with pytest.raises(RequestError, match="cannot be written from itself"):
        check_model($module.$cls(), request)


def test_refuses_constraints_it_does_not_honour(score):
    request = EditRequest(
        model="$slug",
        score=score,
        regions=[Region(track=1, start=0, end=1920)],
        constraints=[KeepRhythm()],
    )
    with pytest.raises(RequestError, match="does not honour keep_rhythm"):
        check_model($module.$cls(), request)
'''


def plugin_names(name: str) -> dict[str, str]:
    """The names a plugin called NAME goes by: slug (model id and entry point), dist, module, cls."""
    slug = name.strip().lower().removeprefix("scorehost-")
    if not _NAME.fullmatch(slug):
        raise RequestError(
            f"{name!r} is not a plugin name: use lowercase letters, digits and hyphens, starting with a letter",
            "NAME",
        )
    return {
        "slug": slug,
        "dist": f"scorehost-{slug}",
        "module": f"scorehost_{slug.replace('-', '_')}",
        "cls": "".join(part.capitalize() for part in slug.split("-")),
    }


def write_plugin(name: str, directory: Path) -> Path:
    """Write the package for a plugin called name into directory/scorehost-NAME; return that
    folder. Refuses to write into a folder (or over a file) that exists."""
    names = plugin_names(name)
    target = Path(directory) / names["dist"]
    try:
        target.mkdir()
    except FileExistsError:
        raise RequestError(f"{target} exists; scorehost never writes over it", "--dir") from None
    except FileNotFoundError:
        raise RequestError(f"{directory}: no such folder", "--dir") from None
    (target / "tests").mkdir()
    files = {
        "pyproject.toml": PYPROJECT,
        "README.md": README,
        f"{names['module']}.py": MODULE,
        f"tests/test_{names['module'].removeprefix('scorehost_')}.py": TESTS,
    }
    for relative, template in files.items():
        (target / relative).write_text(Template(template).substitute(names), encoding="utf-8")
    return target


@click.command(name="new-plugin")
@click.argument("name")
@click.option(
    "--dir",
    "directory",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("."),
    help="Folder to create the package in [default: the current folder].",
)
def new_plugin(name: str, directory: Path) -> None:
    """Write a new model plugin package, scorehost-NAME, with its tests.

    The package holds a small rule-based model to rewrite (it writes another track's notes
    into the regions, transposed), the entry point that scorehost finds it by, and tests that
    use scorehost.core.testing. An existing folder is never written over.
    """
    target = write_plugin(name, directory)
    click.echo(f"wrote {target}/")
    for path in sorted(p for p in target.rglob("*") if p.is_file()):
        click.echo(f"  {path.relative_to(target)}")
    click.echo(f"next: cd {target} && pip install -e '.[test]' && python -m pytest")
