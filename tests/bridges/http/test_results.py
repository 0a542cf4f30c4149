"""A finished result is never lost silently over HTTP: a job whose output file cannot be
written says so on the job (and the result can still be fetched), a synchronous edit answers
a JSON cannot_write error that carries the result as score-JSON, and an output name of a type
no score can be written as is refused before any work."""

from __future__ import annotations

import time

from scorehost.core.score import Note, Score, Track

UNWRITABLE = Score(  # MIDI cannot encode the title: its text events are Latin-1
    title="日本語の曲",
    tracks=[Track(name="Melody", notes=[Note(start=i * 480, duration=480, pitch=60 + i) for i in range(4)])],
    length=1920,
)


def _body(**extra):
    return {
        "model": "echo",
        "score": UNWRITABLE.model_dump(),
        "regions": [{"track": 0, "start": 0, "end": 960}],
        **extra,
    }


def _finished(client, job_id):
    deadline = time.monotonic() + 20
    while (job := client.get(f"/v1/jobs/{job_id}").json())["status"] in ("queued", "running"):
        assert time.monotonic() < deadline
        time.sleep(0.02)
    return job


def test_a_job_whose_output_cannot_be_written_says_so(serve, tmp_path):
    client = serve(allowed_dirs=[tmp_path])
    created = client.post("/v1/jobs", json=_body(output_path="out.mid"))
    assert created.status_code == 202, created.text
    assert created.json()["output"] == {"path": "out.mid", "written": False, "error": None}
    job = _finished(client, created.json()["id"])
    assert job["status"] == "done"
    assert job["output"]["written"] is False
    assert job["output"]["error"]["code"] == "cannot_write"
    assert "cannot be written as MIDI (out.mid): 'latin-1' codec" in job["output"]["error"]["message"]
    assert any("could not write out.mid" in w for w in job["warnings"])
    result = client.get(f"/v1/jobs/{job['id']}/result").json()  # the result is still there
    assert Score.model_validate(result["variations"][0]["score"]) == UNWRITABLE
    assert any("could not write out.mid" in w for w in result["warnings"])
    assert list(tmp_path.iterdir()) == []


def test_a_job_reports_done_only_once_its_file_is_there(serve, tmp_path):
    client = serve(allowed_dirs=[tmp_path])
    body = _body(output_path="out.json")
    job_id = client.post("/v1/jobs", json=body).json()["id"]
    job = _finished(client, job_id)
    assert job["output"] == {"path": "out.json", "written": True, "error": None}
    assert (tmp_path / "out.json").is_file()


def test_a_sync_edit_that_cannot_write_answers_the_result_in_its_error(serve, tmp_path):
    client = serve(allowed_dirs=[tmp_path])
    answer = client.post("/v1/edit", json=_body(output_path="out.mid"))
    assert answer.status_code == 409, answer.text
    error = answer.json()["error"]
    assert error["code"] == "cannot_write" and error["field"] == "output_path"
    assert "cannot be written as MIDI (out.mid)" in error["message"] and "score-JSON" in error["message"]
    assert Score.model_validate(answer.json()["result"]["variations"][0]["score"]) == UNWRITABLE
    assert list(tmp_path.iterdir()) == []
    assert client.get("/v1/health").json()["jobs"] == 0  # answered: not kept


def test_a_result_the_asked_format_cannot_hold_comes_as_score_json(serve):
    client = serve()
    answer = client.post("/v1/edit", params={"format": "midi"}, json=_body())
    assert answer.status_code == 409, answer.text
    assert answer.json()["error"]["field"] == "format"
    assert Score.model_validate(answer.json()["result"]["variations"][0]["score"]) == UNWRITABLE
    job_id = client.post("/v1/jobs", json=_body()).json()["id"]
    _finished(client, job_id)
    one = client.get(f"/v1/jobs/{job_id}/result", params={"format": "midi", "variation": 0})
    assert one.status_code == 409 and Score.model_validate(one.json()["result"]) == UNWRITABLE


def test_an_output_of_an_unknown_type_is_refused_before_any_work(serve, tmp_path):
    client = serve(allowed_dirs=[tmp_path])
    for route in ("/v1/edit", "/v1/jobs"):
        answer = client.post(route, json=_body(output_path="x.txt"))
        assert answer.status_code == 400, answer.text
        assert answer.json()["error"]["field"] == "output_path"
        assert "unknown file type .txt; use one of" in answer.json()["error"]["message"]
    assert client.get("/v1/health").json()["jobs"] == 0
