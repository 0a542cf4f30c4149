"""Slowloris against a real `scorehost serve`: 1,100 connections that send part of a request
and then nothing (more than uvicorn's limit_concurrency of 1,000, which made every other client
get 503) do not stop another client from being answered, and each is closed once the header
timeout has passed, even one that keeps trickling bytes."""

from __future__ import annotations

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


@pytest.fixture
def server():
    env = {**os.environ, "SCOREHOST_PLUGINS": ""}
    command = [sys.executable, "-m", "scorehost.core", "serve", "--http-port", "0"]
    proc = subprocess.Popen(
        [*command, "--http-header-timeout", str(TIMEOUT)], stderr=subprocess.PIPE, text=True, env=env
    )
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
