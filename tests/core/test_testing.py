"""scorehost.core.testing: check_model passes a model that keeps the contract and names the
promise a model breaks; plugin_models lists what a plugin registers."""

import pytest

from scorehost.core import (
    Capabilities,
    EditRequest,
    LocalJob,
    Model,
    Note,
    Options,
    PitchRange,
    Region,
    RequestError,
    Variation,
    hookimpl,
)
from scorehost.core.testing import check_model, plugin_models


def _request(score, **fields):
    return EditRequest(model="any", score=score, regions=[Region(track=1, start=0, end=1920)], **fields)


def test_a_model_that_keeps_the_contract_passes(octave_host, chorale):
    job = LocalJob()
    variations = check_model(
        octave_host.model("octave"), _request(chorale), {"variations": 3, "seed": 5}, job=job
    )
    assert [v.seed for v in variations] == [5, 6, 7]
    written = [n.pitch for n in variations[0].score.tracks[1].notes if n.start < 1920]
    assert written == [n.pitch - 12 for n in chorale.tracks[0].notes if n.start < 1920]


def test_options_may_be_an_options_object(octave_host, chorale):
    assert len(check_model(octave_host.model("octave"), _request(chorale), Options(variations=2))) == 2


def test_changing_notes_outside_the_regions_fails(host, chorale):
    with pytest.raises(AssertionError, match=r"variation 0 changed what it was not asked to write") as caught:
        check_model(host.model("vandal"), _request(chorale))
    assert "track 0 (Soprano): notes added or changed outside the regions: pitch 60 at tick 0" in str(
        caught.value
    )
    assert "track 0 (Soprano): notes removed or changed outside the regions" in str(caught.value)


class Careless(Model):
    """Breaks one promise, chosen by its options."""

    model_id = "careless"
    capabilities = Capabilities(constraints=frozenset({"pitch_range"}))

    class Options(Options):
        fault: str = "none"

    def inpaint(self, request, options, job):
        score = request.score
        if options.fault == "in_place":
            score.tracks[1].notes.clear()
            return [Variation(score=score, log_prob=0.0, seed=s) for s in options.seeds()]
        if options.fault == "progress":
            job.progress(1.5)
        region = request.regions[0]
        kept = [n for n in score.tracks[1].notes if not region.start <= n.start < region.end]
        written = Note(
            start=region.start,
            duration=4 * region.end if options.fault == "past_end" else region.end - region.start,
            pitch=20 if options.fault == "range" else 60,
        )
        tracks = list(score.tracks)
        tracks[1] = tracks[1].model_copy(update={"notes": [*kept, written]})
        title = "new" if options.fault == "title" else score.title
        result = score.model_copy(update={"tracks": tracks, "title": title})
        seeds = options.seeds()[:1] if options.fault == "count" else options.seeds()
        return [Variation(score=result, log_prob=0.0, seed=s) for s in seeds]


@pytest.mark.parametrize(
    ("fault", "message"),
    [
        ("none", None),
        ("count", "returned 1 variations; the request asked for 2"),
        ("range", r"broke a constraint:\n  track 1 has notes outside 50..80: \[20\]"),
        (
            "past_end",
            r"track 1 \(Alto\): notes sounding past the end of their region: pitch 60 at tick 0 \(7680 ticks",
        ),
        ("title", r"changed what it was not asked to write:\n  the score's title"),
        ("in_place", "changed the request's score in place"),
        ("progress", r"reported progress outside 0..1: \[1.5\]"),
    ],
)
def test_each_broken_promise_is_named(chorale, fault, message):
    score = chorale.model_copy(deep=True)
    request = _request(score, constraints=[PitchRange(track=1, low=50, high=80)])
    options = {"fault": fault, "variations": 2}
    if message is None:
        assert len(check_model(Careless(), request, options)) == 2
    else:
        with pytest.raises(AssertionError, match=message):
            check_model(Careless(), request, options)


def test_refusals_raise_as_the_engine_refuses(octave_host, chorale):
    with pytest.raises(RequestError, match="does not honour pitch_range"):
        check_model(
            octave_host.model("octave"), _request(chorale, constraints=[PitchRange(track=1, low=1, high=2)])
        )
    with pytest.raises(RequestError, match="options"):
        check_model(octave_host.model("octave"), _request(chorale), {"no_such_option": 1})
    with pytest.raises(RequestError, match="track 9 does not exist"):
        check_model(
            octave_host.model("octave"),
            _request(chorale).model_copy(update={"regions": [Region(track=9, start=0, end=1)]}),
        )


def test_the_model_is_loaded_once_onto_the_jobs_device(octave_host, chorale):
    class Loads(Model):
        model_id = "loads"
        loads: list[str] = []

        def load(self, device):
            super().load(device)
            self.loads.append(device)

        def inpaint(self, request, options, job):
            return [Variation(score=request.score, log_prob=None, seed=s) for s in options.seeds()]

    model = Loads()
    check_model(model, _request(chorale))
    check_model(model, _request(chorale))
    assert model.loads == ["cpu"]


def test_plugin_models_lists_what_a_plugin_registers_and_fails_loudly():
    class Good:
        @hookimpl
        def register_models(self, register):
            register(Careless())

    class Broken:
        @hookimpl
        def register_models(self, register):
            raise ValueError("no weights here")

    assert list(plugin_models(Good())) == ["careless"]
    with pytest.raises(AssertionError, match="register_models: ValueError: no weights here"):
        plugin_models(Broken())
