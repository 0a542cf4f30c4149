"""The Model base class and LocalJob, the job context for running a model outside the engine."""

from __future__ import annotations

from scorehost.core.model import LocalJob, Model


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
