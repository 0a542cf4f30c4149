"""The HTTP bridge keeps its event loop free and the engine's worker on models: parsing,
checking and encoding run in threads, result files are written by the bridge's own threads."""

import threading
import time

import httpx

from scorehost.bridges.http import app as http_app
from scorehost.core.scoreio import read_score_bytes

from ...conftest import corpus_path

BIG = "schumann_clara/opus17/movement3"  # 870 KB of MusicXML, about 2,200 notes
WORKER = "scorehost-cpu"  # the name of the engine's worker thread for the cpu device


def test_health_stays_fast_while_a_big_musicxml_upload_is_parsed(serve):
    musicxml = corpus_path(BIG).read_text()
    started = time.perf_counter()
    read_score_bytes(musicxml.encode(), ".musicxml", 20_000)
    parse = time.perf_counter() - started
    client = serve(max_body_bytes=4 * 1024 * 1024)
    body = {
        "model": "echo",
        "score_musicxml": musicxml,
        "regions": [{"track": 0, "start": 0, "end": 480}],
    }
    calls: list[tuple[float, float, int]] = []  # (sent, answered, status) of each health call
    done = threading.Event()

    def poll() -> None:
        with httpx.Client(base_url=str(client.base_url), timeout=60) as own:
            while not done.is_set():
                sent = time.perf_counter()
                status = own.get("/v1/health").status_code
                calls.append((sent, time.perf_counter(), status))
                time.sleep(0.01)

    poller = threading.Thread(target=poll)
    poller.start()
    try:
        time.sleep(0.2)  # the poller is under way before the upload starts
        upload_started = time.perf_counter()
        answer = client.post("/v1/edit", json=body)
        upload_ended = time.perf_counter()
    finally:
        done.set()
        poller.join()
    assert answer.status_code == 200, answer.text
    during = [(s, a, status) for s, a, status in calls if a > upload_started and s < upload_ended]
    assert during and all(status == 200 for *_, status in during)
    slowest = max(a - s for s, a, _ in during)
    assert slowest < parse / 2, (
        f"a health check took {slowest:.3f} s during an upload whose score takes {parse:.3f} s to parse"
    )
    assert len(during) >= 3  # the poller went on being answered all through the upload


def test_result_files_are_written_once_and_off_the_engine_worker(serve, chorale, tmp_path, monkeypatch):
    writers: list[str] = []
    write_score = http_app.write_score

    def recording(score, path, *args, **kwargs):
        writers.append(threading.current_thread().name)
        return write_score(score, path, *args, **kwargs)

    monkeypatch.setattr(http_app, "write_score", recording)
    client = serve(allowed_dirs=[tmp_path])
    body = _slow_job(chorale, 0.3, "out.mid")
    job_id = client.post("/v1/jobs", json=body).json()["id"]
    while (status := client.get(f"/v1/jobs/{job_id}").json()["status"]) not in ("done", "failed"):
        time.sleep(0.05)
    assert status == "done"
    assert len(writers) == 1 and writers[0] not in (WORKER, "scorehost-http"), writers
    assert (tmp_path / "out.mid").read_bytes()[:4] == b"MThd"  # written once the job says done
    assert client.get(f"/v1/jobs/{job_id}/result").json()["warnings"] == []
    assert len(writers) == 1


def test_a_result_file_that_cannot_be_written_is_a_warning_in_the_result(serve, chorale, tmp_path):
    client = serve(allowed_dirs=[tmp_path])
    body = _slow_job(chorale, 0.5, "out.mid")
    job_id = client.post("/v1/jobs", json=body).json()["id"]
    (tmp_path / "out.mid").write_bytes(b"someone else's")  # the name is taken while the job runs
    while client.get(f"/v1/jobs/{job_id}").json()["status"] not in ("done", "failed"):
        time.sleep(0.05)
    result = client.get(f"/v1/jobs/{job_id}/result").json()
    assert any(w.startswith("could not write out.mid") for w in result["warnings"]), result["warnings"]
    assert (tmp_path / "out.mid").read_bytes() == b"someone else's"


def test_a_refused_output_path_leaves_no_job_running(serve, chorale, tmp_path):
    (tmp_path / "taken.mid").write_bytes(b"mine")
    client = serve(allowed_dirs=[tmp_path])
    body = _slow_job(chorale, 5, "taken.mid")
    answer = client.post("/v1/jobs", json=body)
    assert answer.status_code == 403 and "never writes over" in answer.json()["error"]["message"]
    started = time.monotonic()
    quick = {"model": "echo", "score": body["score"], "regions": body["regions"]}
    assert client.post("/v1/edit", json=quick).status_code == 200
    assert time.monotonic() - started < 2.5  # not queued behind the 5 s job nobody knows of


def _slow_job(score, seconds, output_path):
    return {
        "model": "slow",
        "score": score.model_dump(),
        "regions": [{"track": 1, "start": 480, "end": 2400}],
        "options": {"seconds": seconds},
        "output_path": output_path,
    }
