"""DNS rebinding and drive-by posts: the server answers only requests that name it in their
Host header, and refuses state-changing requests from web pages of other origins."""

from scorehost.bridges.http.hosts import HostCheck, split_authority
from scorehost.core.scoreio import write_score


def _body(score, **extra):
    return {
        "model": "echo",
        "score": score.model_dump(),
        "regions": [{"track": 1, "start": 0, "end": 480}],
    } | extra


def _refused(answer, code):
    assert answer.status_code == 403, answer.text
    error = answer.json()["error"]
    assert error["code"] == code and error["field"] is None and error["message"]


def test_a_foreign_host_header_is_refused_before_anything_is_read_or_written(serve, chorale, tmp_path):
    write_score(chorale, tmp_path / "in.mid")
    client = serve(allowed_dirs=[tmp_path])
    port = client.base_url.port
    body = {"model": "echo", "score_path": "in.mid", "output_path": "out.mid"}
    body["regions"] = [{"track": 1, "start": 0, "end": 480}]
    for host in (f"attacker.example:{port}", "attacker.example", f"127.0.0.1.attacker.example:{port}"):
        _refused(client.get("/v1/health", headers={"host": host}), "host_not_allowed")
        _refused(client.post("/v1/edit", json=body, headers={"host": host}), "host_not_allowed")
        _refused(client.post("/v1/jobs", json=body, headers={"host": host}), "host_not_allowed")
    assert not (tmp_path / "out.mid").exists()
    for host in (f"127.0.0.1:{port + 1}", "127.0.0.1", "localhost", "", f"[::1]:{port}x"):
        _refused(client.get("/v1/health", headers={"host": host}), "host_not_allowed")
    for host in (
        f"127.0.0.1:{port}",
        f"localhost:{port}",
        f"LocalHost:{port}",
        f"[::1]:{port}",
        f"127.0.0.7:{port}",
    ):
        assert client.get("/v1/health", headers={"host": host}).status_code == 200, host
    answer = client.post("/v1/edit", json=body)  # httpx sends Host: 127.0.0.1:PORT, as MuseScore does
    assert answer.status_code == 200, answer.text
    assert (tmp_path / "out.mid").exists()


def test_state_changing_requests_from_other_origins_are_refused(serve, chorale):
    client = serve()
    port = client.base_url.port
    for origin in ("http://attacker.example", f"http://attacker.example:{port}", "null", "file://"):
        _refused(
            client.post("/v1/edit", json=_body(chorale), headers={"origin": origin}), "origin_not_allowed"
        )
        _refused(
            client.post("/v1/jobs", json=_body(chorale), headers={"origin": origin}), "origin_not_allowed"
        )
        _refused(client.delete("/v1/jobs/abc", headers={"origin": origin}), "origin_not_allowed")
        assert client.get("/v1/health", headers={"origin": origin}).status_code == 200  # reading is not
    _refused(
        client.post("/v1/edit", json=_body(chorale), headers={"origin": f"http://127.0.0.1:{port + 1}"}),
        "origin_not_allowed",
    )
    for origin in (f"http://127.0.0.1:{port}", f"http://localhost:{port}"):  # the server's own pages (/docs)
        assert client.post("/v1/edit", json=_body(chorale), headers={"origin": origin}).status_code == 200
    assert client.post("/v1/edit", json=_body(chorale)).status_code == 200  # scripts send no Origin


def test_the_allowed_names_are_loopback_the_configured_host_and_the_address_used():
    check = HostCheck(None, host="studio.example")
    server = ("192.168.1.5", 8765)  # where a client's connection came in, on a wildcard bind
    for authority in (
        "studio.example:8765",
        "192.168.1.5:8765",
        "localhost:8765",
        "127.0.0.1:8765",
        "[::1]:8765",
    ):
        assert check.allowed(authority, "http", server), authority
    for authority in (
        "other.example:8765",
        "studio.example:8766",
        "studio.example",
        "192.168.1.6:8765",
        ":8765",
    ):
        assert not check.allowed(authority, "http", server), authority
    assert check.allowed("studio.example", "http", ("10.0.0.1", 80))  # no port: the scheme's
    assert HostCheck(None, host="0.0.0.0").names == HostCheck(None, host="::").names == {"localhost"}
    assert split_authority("[::1]:80") == ("::1", 80) and split_authority("Example.COM") == (
        "example.com",
        None,
    )
    assert split_authority("a:b") == split_authority("[::1") == split_authority("a:99999") == (None, None)
