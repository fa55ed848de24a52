"""The exchange under ``ApiClient``: ``KeepAliveTransport``, or httpx's behind a proxy."""

from __future__ import annotations

import gzip
import random
import re
import socket
import threading
from urllib.parse import urlencode

import httpx
import pytest

from ingest.demo.servers import DemoServer
from ingest.http import ApiClient, KeepAliveTransport, RetryPolicy, form_body
from tests.ingest.apikit import Demo, demo, server  # noqa: F401 (fixtures)


def test_a_proxy_in_the_environment_keeps_httpx_transport(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name in ("http_proxy", "https_proxy", "all_proxy", "HTTP_PROXY", "HTTPS_PROXY"):
        monkeypatch.delenv(name, raising=False)
    with ApiClient("demo") as client:
        assert isinstance(client._transport, KeepAliveTransport)
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.example:3128")
    with ApiClient("demo") as client:
        assert client._transport is None  # ours would bypass the proxy


def test_an_answer_reaches_check_as_an_httpx_response(server: DemoServer) -> None:  # noqa: F811
    seen: list[httpx.Response] = []

    def check(response: httpx.Response) -> dict:
        seen.append(response)
        return response.json()

    with ApiClient("demo") as client:
        info = client.send(lambda: {"method": "GET", "url": f"{server.url}/_demo/info"}, check)
        again = client.send(lambda: {"method": "GET", "url": f"{server.url}/_demo/info"}, check)
    assert info == again and "demo_dir" in info
    first = seen[0]
    assert first.status_code == 200 and first.headers["content-type"] == "application/json"
    assert str(first.request.url) == f"{server.url}/_demo/info"


class _Scripted:
    """A raw HTTP/1.1 server on 127.0.0.1 that answers each request with the next of
    ``answers`` (bytes sent as they are); ``None`` closes the connection without answering."""

    def __init__(self, answers: list[bytes | None]) -> None:
        self.answers = list(answers)
        self.requests: list[bytes] = []
        self.connections = 0
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}"
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        while self.answers:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.connections += 1
            with conn, conn.makefile("rb") as reader:
                while self.answers:
                    head = b""
                    while not head.endswith(b"\r\n\r\n"):
                        line = reader.readline()
                        if not line:
                            break
                        head += line
                    if not head:
                        break
                    length = re.search(rb"(?i)content-length: *(\d+)", head)
                    body = reader.read(int(length.group(1))) if length else b""
                    self.requests.append(head + body)
                    answer = self.answers.pop(0)
                    if answer is None:
                        break
                    conn.sendall(answer)

    def close(self) -> None:
        self.sock.close()


def _ok(body: bytes, extra: bytes = b"") -> bytes:
    return b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n%s\r\n%s" % (len(body), extra, body)


def test_the_transport_reads_lengths_chunks_gzip_and_keeps_the_connection() -> None:
    gz = gzip.compress(b'{"a": 1}')
    scripted = _Scripted(
        [
            _ok(b'{"n": 1}', b"Set-Cookie: s=1\r\n"),
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
            b'3;x=y\r\n{"n\r\n5\r\n": 2}\r\n0\r\nTrailer: t\r\n\r\n',
            _ok(gz, b"Content-Encoding: gzip\r\n"),
            b"HTTP/1.1 204 No Content\r\n\r\n",
            _ok(b'{"n": 5}'),
        ]
    )
    try:
        with ApiClient("demo") as client:
            got = [
                client.send(lambda: {"method": "POST", "url": scripted.url, "data": {"k": "v w"}})
                for _ in range(5)
            ]
            assert client.http.cookies.get("s") == "1"  # kept in httpx's jar
    finally:
        scripted.close()
    assert [r.status_code for r in got] == [200, 200, 200, 204, 200]
    assert [got[0].json(), got[1].json(), got[2].json(), got[4].json()] == [
        {"n": 1},
        {"n": 2},
        {"a": 1},
        {"n": 5},
    ]
    assert scripted.connections == 1  # one kept-alive connection for all five
    first = scripted.requests[0]
    assert first.startswith(b"POST / HTTP/1.1\r\n") and first.endswith(b"\r\n\r\nk=v+w")
    assert b"\r\nHost: 127.0.0.1:" in first


def test_a_connection_closed_while_idle_is_replaced_once() -> None:
    # the server drops the kept connection without answering the second request
    scripted = _Scripted([_ok(b"1"), None, _ok(b"2")])
    try:
        with ApiClient("demo", policy=RetryPolicy(attempts=1)) as client:
            first = client.send(lambda: {"method": "GET", "url": scripted.url})
            second = client.send(lambda: {"method": "GET", "url": scripted.url})
    finally:
        scripted.close()
    assert (first.content, second.content) == (b"1", b"2")
    assert scripted.connections == 2


def test_connection_close_and_a_body_to_the_end() -> None:
    scripted = _Scripted(
        [
            _ok(b"1", b"Connection: close\r\n"),
            b"HTTP/1.1 200 OK\r\n\r\nto the end",  # no length: read until the server closes
        ]
    )
    try:
        with ApiClient("demo") as client:
            first = client.send(lambda: {"method": "GET", "url": scripted.url})
            second = client.send(lambda: {"method": "GET", "url": scripted.url})
    finally:
        scripted.close()
    assert (first.content, second.content) == (b"1", b"to the end")
    assert scripted.connections == 2


def test_transport_errors_are_httpx_errors() -> None:
    silent = socket.create_server(("127.0.0.1", 0))  # accepts (backlog), never answers
    try:
        transport = KeepAliveTransport(timeout=0.2)
        url = f"http://127.0.0.1:{silent.getsockname()[1]}/"
        with pytest.raises(httpx.ReadTimeout):
            transport.handle_request(httpx.Request("GET", url))
    finally:
        silent.close()
    with pytest.raises(httpx.ConnectError):  # nothing listens there any more
        KeepAliveTransport(timeout=1).handle_request(httpx.Request("GET", url))
    garbage = _Scripted([b"SSH-2.0-OpenSSH\r\n\r\n"])
    try:
        with pytest.raises(httpx.RemoteProtocolError):
            KeepAliveTransport().handle_request(httpx.Request("GET", garbage.url))
    finally:
        garbage.close()


def test_a_form_post_is_built_as_httpx_builds_it() -> None:
    spec = {"method": "POST", "url": "http://127.0.0.1:9/r?x=1", "data": {"k": "v w", "z": "é&"}}
    with ApiClient("demo") as client:
        ours, httpx_own = client._request(spec), client.http.build_request(**spec)
        assert ours.url == httpx_own.url and ours.method == httpx_own.method
        assert ours.read() == httpx_own.read() == b"k=v+w&z=%C3%A9%26"
        assert sorted(ours.headers.raw) == sorted(httpx_own.headers.raw)
        client.http.cookies.set("s", "1")  # a cookie to send: httpx merges it in
        assert client._request(spec).headers["cookie"] == "s=1"


def test_timeouts_say_whether_a_connection_was_made() -> None:
    # a listener whose backlog is full: the connect itself never completes
    full = socket.socket()
    full.bind(("127.0.0.1", 0))
    full.listen(0)
    waiting = []
    for _ in range(4):
        s = socket.socket()
        s.setblocking(False)
        s.connect_ex(full.getsockname())
        waiting.append(s)
    try:
        with pytest.raises(httpx.ConnectTimeout):
            url = f"http://127.0.0.1:{full.getsockname()[1]}/"
            KeepAliveTransport(timeout=0.3).handle_request(httpx.Request("GET", url))
    finally:
        for s in waiting:
            s.close()
        full.close()
    # a kept connection that goes quiet on the second call: a read timeout, not a connect one
    listener = socket.create_server(("127.0.0.1", 0))
    done = threading.Event()

    def answer_once_then_hold() -> None:
        conn, _ = listener.accept()
        with conn:
            conn.recv(65536)
            conn.sendall(_ok(b"1"))
            conn.recv(65536)  # the second request, never answered
            done.wait(5)

    threading.Thread(target=answer_once_then_hold, daemon=True).start()
    transport = KeepAliveTransport(timeout=0.3)
    url = f"http://127.0.0.1:{listener.getsockname()[1]}/"
    try:
        assert transport.handle_request(httpx.Request("GET", url)).read() == b"1"
        with pytest.raises(httpx.ReadTimeout):
            transport.handle_request(httpx.Request("GET", url))
    finally:
        done.set()
        transport.close()
        listener.close()


def test_form_bodies_are_urlencode_s_whatever_the_characters() -> None:
    rng = random.Random(3)
    alphabet = "".join(map(chr, range(32, 127))) + "长订单€ \t\n&=+%"

    def text() -> str:
        return "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 12)))

    for _ in range(5000):
        data = {text(): text() for _ in range(rng.randint(0, 6))}
        assert form_body(data) == urlencode(data).encode(), data
