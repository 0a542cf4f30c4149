"""Hand-made hostile requests to a real server: the token covers every route and is checked
before the body is parsed; two body framings, odd track indices and unknown routes are each
refused in the documented error shape; the OpenAPI spec lists every status a route answers."""

from __future__ import annotations

import socket

import pytest

from scorehost.core.score import Note, Score, Track

SCORE = Score(tracks=[Track(name="Melody", notes=[Note(start=0, duration=480, pitch=60)])], length=1920)


def _shaped(answer, status: int, code: str) -> dict:
    """The documented error shape: {"error": {"code", "message", "field"}}, nothing else."""
    assert answer.status_code == status, answer.text
    assert answer.headers["content-type"] == "application/json"
    body = answer.json()
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message", "field"}, body
    assert body["error"]["code"] == code and body["error"]["message"]
    return body["error"]


@pytest.mark.parametrize(
    "route", ["/openapi.json", "/docs", "/redoc", "/v1/health", "/v1/models", "/v1/jobs/x"]
)
def test_the_token_covers_every_route(serve, route):
    client = serve(token="s3cret")
    _shaped(client.get(route), 401, "unauthorized")
    assert client.get(route, headers={"Authorization": "Bearer wrong"}).status_code == 401
    allowed = client.get(route, headers={"Authorization": "Bearer s3cret"})
    assert allowed.status_code in (200, 404) and allowed.status_code != 401


def test_the_token_is_checked_before_the_body_is_parsed(serve):
    client = serve(token="s3cret")
    for body in (b"{not json", b"[]", b'{"model": 1}'):
        answer = client.post("/v1/edit", content=body, headers={"Content-Type": "application/json"})
        assert _shaped(answer, 401, "unauthorized")["message"].startswith("missing or wrong token")
        assert answer.headers["www-authenticate"] == "Bearer"


def _raw(port: int, request: bytes) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(request)
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    return answer


def test_content_length_with_transfer_encoding_is_refused(serve):
    client = serve()
    port = client.base_url.port
    answer = _raw(
        port,
        b"POST /v1/jobs HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nContent-Type: application/json\r\n"
        b"Content-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n" % port,
    )
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 400 "), answer
    assert b"both Content-Length and Transfer-Encoding" in body and b'"bad_request"' in body


@pytest.mark.parametrize("track", [True, 1.0, "1", None])
def test_a_track_must_be_a_json_integer(serve, track):
    client = serve()
    body = {
        "model": "echo",
        "score": SCORE.model_dump(),
        "regions": [{"track": track, "start": 0, "end": 480}],
    }
    error = _shaped(client.post("/v1/edit", json=body), 422, "bad_request")
    assert error["field"] == "regions.0.track"


def test_starlettes_own_answers_have_the_documented_shape(serve):
    client = serve()
    assert "no such route: GET /nope" in _shaped(client.get("/nope"), 404, "not_found")["message"]
    assert "does not take PUT" in _shaped(client.put("/v1/health"), 405, "method_not_allowed")["message"]
    deep = '{"model": "echo", "options": ' + "[" * 100_000 + "]" * 100_000 + "}"
    answer = client.post("/v1/jobs", content=deep, headers={"Content-Type": "application/json"})
    assert "cannot be read as JSON" in _shaped(answer, 400, "bad_json")["message"]
    assert client.get("/v1/health").status_code == 200


def test_the_spec_documents_each_status_with_the_error_shape(serve):
    spec = serve().get("/openapi.json").json()
    error = {"$ref": "#/components/schemas/ErrorBody"}
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            statuses = set(operation["responses"])
            # the guards in front of every route: framing, Host, token, body size and time, connections
            assert {"400", "401", "403", "408", "413", "503"} <= statuses, (method, path)
            for status in statuses - {"200", "202"}:
                schema = operation["responses"][status]["content"]["application/json"]["schema"]
                assert schema == error, (method, path, status)
    assert {"400", "404", "409", "413", "422", "500", "503", "504"} <= set(
        spec["paths"]["/v1/edit"]["post"]["responses"]
    )
