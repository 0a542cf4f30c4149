"""Slowloris against a real `scorehost serve`: 1,100 connections that send part of a request
and then nothing (more than uvicorn's limit_concurrency of 1,000, which made every other client
get 503) do not stop another client from being answered, and each is closed once the header
timeout has passed, even one that keeps trickling bytes; a body trickled after prompt headers
is answered 408 once the body timeout has passed; and a request over the connection limit gets
the documented JSON error, not uvicorn's plain text."""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import time

import httpx
import pytest

from scorehost.bridges.http.protocol import GRACE

TIMEOUT = 2.0  # --http-header-timeout for this server
BODY_TIMEOUT = 1.5  # --http-body-timeout
MAX_CONNECTIONS = 40  # --http-max-connections


@pytest.fixture
def server():
    env = {**os.environ, "SCOREHOST_PLUGINS": ""}
    command = [sys.executable, "-m", "scorehost.core", "serve", "--http-port", "0"]
    proc = subprocess.Popen(
        [*command, "--http-header-timeout", str(TIMEOUT), "--http-body-timeout", str(BODY_TIMEOUT)],
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    yield from _port_of(proc)


@pytest.fixture
def limited_server():
    env = {**os.environ, "SCOREHOST_PLUGINS": ""}
    command = [sys.executable, "-m", "scorehost.core", "serve", "--http-port", "0"]
    proc = subprocess.Popen(
        [*command, "--http-max-connections", str(MAX_CONNECTIONS)], stderr=subprocess.PIPE, text=True, env=env
    )
    yield from _port_of(proc)


def _port_of(proc: subprocess.Popen):
    try:
        while True:
            line = proc.stderr.readline()
            assert line, "serve exited before it listened"
            if match := re.search(r"listening on http://127.0.0.1:(\d+)", line):
                yield int(match.group(1))
                break
    finally:
        proc.terminate()
        proc.wait(20)


def _partial(port: int) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", port), timeout=10)
    sock.sendall(b"GET /v1/health HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nX-Slow: " % port)
    return sock


def _closed(sock: socket.socket, within: float) -> bool:
    sock.settimeout(within)
    try:
        return sock.recv(1024) == b""
    except ConnectionResetError:
        return True
    except TimeoutError:
        return False


def test_partial_connections_neither_starve_others_nor_stay(server):
    port = server
    started = time.monotonic()
    held = [_partial(port) for _ in range(1100)]
    time.sleep(2 * GRACE)  # the guard closes a burst's extra connections GRACE after they came
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=10) as client:
            statuses = []
            for _ in range(20):
                statuses.append(client.get("/v1/health").status_code)
                time.sleep(0.02)
        assert statuses == [200] * 20
        left = TIMEOUT + 2 - (time.monotonic() - started)
        assert all(_closed(sock, max(left, 0.1)) for sock in held[-32:])  # the newest, still pending
        assert all(_closed(sock, 0.1) for sock in held[:-32])  # the oldest: closed for newer ones
    finally:
        for sock in held:
            sock.close()


def test_a_connection_that_trickles_its_headers_is_closed(server):
    port = server
    sock = _partial(port)
    started = time.monotonic()
    try:
        while time.monotonic() - started < TIMEOUT + 3:
            try:
                sock.sendall(b"x")
            except (BrokenPipeError, ConnectionResetError):
                break
            if _closed(sock, 0.3):
                break
        assert time.monotonic() - started < TIMEOUT + 2, (
            "the server kept a connection that never sent its headers"
        )
    finally:
        sock.close()
    assert httpx.get(f"http://127.0.0.1:{port}/v1/health", timeout=10).status_code == 200


def _answer(sock: socket.socket, within: float) -> tuple[int, dict, bytes]:
    """Read one HTTP answer and the close after it: status, headers, body."""
    sock.settimeout(within)
    data = b""
    while chunk := sock.recv(65536):
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = dict(line.lower().split(": ", 1) for line in lines[1:])
    return int(lines[0].split()[1]), headers, body


def test_a_body_that_trickles_is_answered_408_and_closed(server):
    port = server
    sock = socket.create_connection(("127.0.0.1", port), timeout=10)
    try:
        sock.sendall(
            b"POST /v1/jobs HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nContent-Type: application/json\r\n"
            b"Content-Length: 100000\r\n\r\n{" % port
        )
        started = time.monotonic()
        sock.settimeout(0.2)
        answered = b""
        while time.monotonic() - started < BODY_TIMEOUT + 3 and not answered:
            try:
                sock.sendall(b" ")  # a byte every 0.2 s: it would take 5 1/2 hours
                answered = sock.recv(65536, socket.MSG_PEEK)
            except TimeoutError:
                continue
            except (BrokenPipeError, ConnectionResetError):
                break
        took = time.monotonic() - started
        status, headers, body = _answer(sock, 2)
    finally:
        sock.close()
    assert BODY_TIMEOUT - 0.2 < took < BODY_TIMEOUT + 1.5, took
    assert status == 408 and headers["connection"] == "close", (status, headers)
    error = json.loads(body)["error"]
    assert error["code"] == "body_timeout" and error["field"] is None, error
    assert f"did not arrive within {BODY_TIMEOUT:g} s of its headers" in error["message"]
    with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=10) as client:
        assert client.get("/v1/health").status_code == 200
        # a body that comes at once is read as before (here: refused for its content, not its pace)
        answer = client.post("/v1/jobs", json={"model": "nope", "score": {}, "regions": [{"track": 0}]})
        assert answer.status_code in (400, 404, 422), answer.text


def test_a_request_over_the_connection_limit_gets_the_json_error(limited_server):
    port = limited_server
    held = [socket.create_connection(("127.0.0.1", port), timeout=10) for _ in range(MAX_CONNECTIONS)]
    try:
        time.sleep(0.3)  # let the server accept them all
        answer = httpx.get(f"http://127.0.0.1:{port}/v1/health", timeout=10)
        assert answer.status_code == 503, answer.text
        assert answer.headers["content-type"] == "application/json" and answer.headers["retry-after"] == "1"
        error = answer.json()["error"]
        assert error["code"] == "busy" and error["field"] is None, error
        assert f"limit of {MAX_CONNECTIONS} connections" in error["message"]
    finally:
        for sock in held:
            sock.close()
    time.sleep(0.3)
    assert httpx.get(f"http://127.0.0.1:{port}/v1/health", timeout=10).status_code == 200
