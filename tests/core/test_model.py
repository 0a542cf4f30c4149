"""The Model base class (its capabilities enforced) and LocalJob, the job context for running a model outside the engine."""

from __future__ import annotations

import pytest

from scorehost.core.errors import RequestError
from scorehost.core.model import Capabilities, LocalJob, Model
from scorehost.core.requests import EditRequest, Options, Region
from scorehost.core.score import Note, Score, Track


def test_local_job_records_progress_and_warnings():
    job = LocalJob("cpu")
    job.progress(0.5)
    job.check()
    job.warn("transposed")
    assert (job.device, job.fractions, job.warnings) == ("cpu", [0.5], ["transposed"])


def test_a_model_is_not_loaded_until_load():
    model = Model()
    assert not model.loaded
    model.load("cpu")
    assert model.loaded and model.device == "cpu"


# ---- capabilities are enforced -------------------------------------------------------------


def _model(**caps) -> Model:
    class Limited(Model):
        model_id = "limited"
        capabilities = Capabilities(**caps)

    return Limited()


def _score(*tracks: Track) -> Score:
    return Score(tracks=list(tracks), length=1920)


NOTES = [Note(start=0, duration=480, pitch=60)]
PIANO = Track(name="Piano", notes=NOTES)
KIT = Track(name="Kit", is_drum=True, notes=[Note(start=0, duration=120, pitch=36)])


def _check(model: Model, score: Score, *tracks: int) -> None:
    request = EditRequest(
        model="limited", score=score, regions=[Region(track=t, start=0, end=960) for t in tracks]
    )
    model.check(request, Options())


def test_a_model_that_does_not_write_drums_refuses_a_drum_region_by_name():
    with pytest.raises(RequestError, match=r"does not write drum tracks \(Kit\)"):
        _check(_model(new_tracks=True), _score(PIANO, KIT), 1)
    _check(_model(new_tracks=True, drums=True), _score(PIANO, KIT), 1)


def test_a_model_without_new_tracks_refuses_an_empty_track():
    with pytest.raises(RequestError, match=r"cannot fill a track that is empty \(Bass\)"):
        _check(_model(), _score(PIANO, Track(name="Bass")), 1)
    _check(_model(), _score(PIANO, Track(name="Bass")), 0)
    _check(_model(new_tracks=True), _score(PIANO, Track(name="Bass")), 1)


def test_max_tracks_and_single_track_regions_are_enforced():
    score = _score(PIANO, PIANO.model_copy(update={"name": "Piano 2"}), PIANO)
    with pytest.raises(RequestError, match="reads at most 2 tracks; the score has 3"):
        _check(_model(max_tracks=2), score, 0)
    with pytest.raises(RequestError, match="one track per request"):
        _check(_model(multi_track_regions=False), score, 0, 1)
    _check(_model(multi_track_regions=False), score, 1)
