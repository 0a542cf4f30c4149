"""The HTTP bridge over real HTTP: a real uvicorn server on loopback, real requests."""

import base64
import threading
import time

import httpx
import pytest

from scorehost.core.score import Note, Score, Track, note_tuples
from scorehost.core.scoreio import score_bytes, write_score
from scorehost.core.settings import Settings


def _body(score, model="echo", **extra):
    return {
        "model": model,
        "score": score.model_dump(),
        "regions": [{"track": 1, "start": 480, "end": 2400}],
        **extra,
    }


def test_models_health_and_openapi(serve):
    client = serve()
    assert client.get("/v1/health").json()["status"] == "ok"
    ids = [m["id"] for m in client.get("/v1/models").json()]
    assert "echo" in ids and client.get("/v1/models/slow").json()["options_schema"]["properties"]["seconds"]
    spec = client.get("/openapi.json").json()
    assert {"/v1/edit", "/v1/jobs", "/v1/jobs/{job_id}", "/v1/jobs/{job_id}/result"} <= set(spec["paths"])


def test_sync_edit_in_every_score_format(serve, chorale):
    client = serve()
    answer = client.post("/v1/edit", json=_body(chorale, options={"variations": 2, "seed": 5}))
    assert answer.status_code == 200, answer.text
    result = answer.json()
    assert [v["seed"] for v in result["variations"]] == [5, 6]
    assert Score.model_validate(result["variations"][0]["score"]) == chorale
    musicxml = score_bytes(chorale, ".musicxml").decode()
    answer = client.post(
        "/v1/edit",
        params={"format": "midi"},
        json=_body(chorale) | {"score": None, "score_musicxml": musicxml},
    )
    assert answer.status_code == 200, answer.text
    assert base64.b64decode(answer.json()["variations"][0]["score_midi_base64"])[:4] == b"MThd"
    midi = base64.b64encode(score_bytes(chorale, ".mid")).decode()
    answer = client.post(
        "/v1/edit",
        params={"format": "musicxml"},
        json=_body(chorale) | {"score": None, "score_midi_base64": midi},
    )
    assert answer.status_code == 200 and "<score-partwise" in answer.json()["variations"][0]["score_musicxml"]


def test_jobs_resource(serve, chorale):
    client = serve()
    created = client.post("/v1/jobs", json=_body(chorale, model="slow", options={"seconds": 0.3}))
    assert created.status_code == 202
    job_id = created.json()["id"]
    early = client.get(f"/v1/jobs/{job_id}/result")
    assert early.status_code == 409 and "poll" in early.json()["error"]["message"]
    while (status := client.get(f"/v1/jobs/{job_id}").json())["status"] not in ("done", "failed"):
        assert 0 <= status["progress"] <= 1
        time.sleep(0.05)
    assert status["status"] == "done" and status["progress"] == 1
    assert client.get(f"/v1/jobs/{job_id}/result").json()["variations"][0]["seed"] >= 0
    midi = client.get(f"/v1/jobs/{job_id}/result", params={"format": "midi", "variation": 0})
    assert midi.headers["content-type"] == "audio/midi" and midi.content[:4] == b"MThd"
    assert client.get(f"/v1/jobs/{job_id}/result", params={"variation": 3}).status_code == 400
    assert client.get("/v1/jobs/nope").status_code == 404


def test_cancelled_job_stops_using_the_worker(serve, chorale):
    client = serve(cpu_workers=1)  # the one worker: the edit after is served only once it is free
    job_id = client.post("/v1/jobs", json=_body(chorale, model="slow", options={"seconds": 30})).json()["id"]
    while client.get(f"/v1/jobs/{job_id}").json()["status"] != "running":
        time.sleep(0.02)
    assert client.delete(f"/v1/jobs/{job_id}").status_code == 200
    started = time.monotonic()
    assert client.post("/v1/edit", json=_body(chorale)).status_code == 200  # the worker is free again
    assert time.monotonic() - started < 2
    assert client.get(f"/v1/jobs/{job_id}").json()["status"] == "cancelled"
    answer = client.get(f"/v1/jobs/{job_id}/result")
    assert answer.status_code == 409 and answer.json()["error"]["code"] == "cancelled"


def test_fifty_concurrent_clients(serve, chorale):
    client = serve()
    answers = []

    def call(i):
        model = "fails" if i % 10 == 0 else "echo"
        with httpx.Client(base_url=str(client.base_url), timeout=60) as own:
            answers.append(
                (model, own.post("/v1/edit", json=_body(chorale, model=model, options={"seed": i})))
            )

    threads = [threading.Thread(target=call, args=(i,)) for i in range(50)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(answers) == 50
    for model, answer in answers:
        if model == "fails":
            assert answer.status_code == 500 and "divided by zero" in answer.json()["error"]["message"]
        else:
            assert answer.status_code == 200
            out = Score.model_validate(answer.json()["variations"][0]["score"])
            assert [note_tuples(t) for t in out.tracks] == [note_tuples(t) for t in chorale.tracks]


def test_bad_requests_get_json_errors_and_the_server_stays_up(serve, chorale):
    client = serve()
    cases = [
        (
            client.post("/v1/edit", content=b"{not json", headers={"content-type": "application/json"}),
            400,
            "not valid JSON",
        ),
        (client.post("/v1/edit", content=b"hello"), 400, "JSON object"),
        (client.post("/v1/edit", json=_body(chorale, model="nope")), 404, "unknown model 'nope'"),
        (
            client.post("/v1/edit", json=_body(chorale) | {"regions": [{"track": 9, "start": 0, "end": 10}]}),
            400,
            "track 9 does not exist",
        ),
        (
            client.post("/v1/edit", json=_body(chorale) | {"score_path": "x.mid"}),
            422,
            "give the score exactly once",
        ),
        (
            client.post("/v1/edit", json=_body(chorale) | {"score": None, "score_midi_base64": "%%%"}),
            400,
            "not valid base64",
        ),
        (
            client.post(
                "/v1/edit", json=_body(chorale) | {"score": None, "score_musicxml": "<score-partwise>"}
            ),
            400,
            "not a readable MusicXML",
        ),
        (client.post("/v1/edit", json=_body(chorale, options={"variations": 99})), 400, "options"),
    ]
    for answer, status, fragment in cases:
        assert answer.status_code == status, answer.text
        assert fragment in answer.json()["error"]["message"]
    assert client.get("/v1/health").status_code == 200


def test_fifty_megabyte_body_is_refused(serve):
    client = serve()
    huge = b"x" * (50 * 1024 * 1024)
    answer = client.post("/v1/edit", content=huge, headers={"content-type": "application/json"})
    assert answer.status_code == 413 and "over the limit" in answer.json()["error"]["message"]

    def chunks():
        for _ in range(50):
            yield b"x" * (1024 * 1024)

    answer = client.post("/v1/edit", content=chunks(), headers={"content-type": "application/json"})
    assert answer.status_code == 413
    assert client.get("/v1/health").status_code == 200


def _big_score(notes: int) -> Score:
    return Score(
        length=notes * 120,
        tracks=[
            Track(notes=[Note(start=i * 120, duration=120, pitch=60 + i % 12) for i in range(notes)]),
            Track(),
        ],
    )


def test_ten_thousand_notes_served_or_refused_within_limits(serve):
    big = _big_score(10_000)
    body = {"model": "echo", "score": big.model_dump(), "regions": [{"track": 1, "start": 0, "end": 1920}]}
    served = serve(max_notes=20_000, max_body_bytes=8 * 1024 * 1024)
    assert served.post("/v1/edit", json=body).status_code == 200
    refused = serve(max_notes=5_000, max_body_bytes=8 * 1024 * 1024)
    answer = refused.post("/v1/edit", json=body)
    assert answer.status_code == 413 and "limit is 5,000" in answer.json()["error"]["message"]


def test_paths_stay_inside_the_allowed_folders(serve, chorale, tmp_path):
    allowed = tmp_path / "scores"
    allowed.mkdir()
    write_score(chorale, allowed / "in.mid")
    outside = tmp_path / "secret.mid"
    write_score(chorale, outside)
    (allowed / "link.mid").symlink_to(outside)
    client = serve(allowed_dirs=[allowed])
    body = _body(chorale) | {"score": None}
    for path in (str(outside), "../secret.mid", "link.mid"):
        answer = client.post("/v1/edit", json=body | {"score_path": path})
        assert answer.status_code == 403 and "outside the folders" in answer.json()["error"]["message"], path
    answer = client.post("/v1/edit", json=body | {"score_path": "in.mid", "output_path": "out.mid"})
    assert answer.status_code == 200, answer.text
    assert (allowed / "out.mid").exists()
    before = (allowed / "in.mid").read_bytes()
    answer = client.post("/v1/edit", json=body | {"score_path": "in.mid", "output_path": "in.mid"})
    assert answer.status_code == 403 and "never writes over" in answer.json()["error"]["message"]
    assert (allowed / "in.mid").read_bytes() == before
    answer = client.post(
        "/v1/edit", json=body | {"score_path": str(outside), "output_path": str(tmp_path / "x.mid")}
    )
    assert answer.status_code == 403


def test_no_folders_means_no_files(serve, chorale):
    answer = serve().post("/v1/edit", json=_body(chorale) | {"score": None, "score_path": "/etc/passwd"})
    assert answer.status_code == 403 and "reads and writes no files" in answer.json()["error"]["message"]


def test_token(serve, chorale):
    client = serve(token="s3cret")
    assert client.get("/v1/models").status_code == 401
    assert client.get("/v1/models", headers={"Authorization": "Bearer s3cret"}).status_code == 200


def test_non_loopback_bind_needs_a_token():
    from scorehost.core.errors import ScorehostError

    with pytest.raises(ScorehostError, match="set a token"):
        Settings(host="0.0.0.0").check_safe()
    Settings(host="0.0.0.0", token="t").check_safe()
    Settings(host="::1").check_safe()
