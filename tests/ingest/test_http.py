"""The exchange under ``ApiClient``: urllib3's pool, or httpx's transport behind a proxy."""

from __future__ import annotations

import httpx
import pytest

from ingest.demo.servers import DemoServer
from ingest.http import ApiClient
from tests.ingest.apikit import Demo, demo, server  # noqa: F401 (fixtures)


def test_a_proxy_in_the_environment_keeps_httpx_transport(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name in ("http_proxy", "https_proxy", "all_proxy", "HTTP_PROXY", "HTTPS_PROXY"):
        monkeypatch.delenv(name, raising=False)
    with ApiClient("demo") as client:
        assert client._pool is not None
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.example:3128")
    with ApiClient("demo") as client:
        assert client._pool is None  # urllib3's pool would bypass the proxy


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
