"""The HTTP layer every API connector shares: retries with backoff, rate limits, tokens, paging.

``ApiClient.send`` runs one logical call. Each attempt rebuilds the request (a fresh
timestamp, signature and token), sends it and hands the response (an ``httpx.Response``)
to the connector's ``check``, which returns the parsed body or raises:

- ``Retryable(reason, after=None)``: try again after ``after`` seconds (a server's
  ``Retry-After``, TOP's "ban will last N seconds") or an exponential backoff with jitter;
- ``AuthExpired(reason)``: the token is stale; the client calls ``refresh`` and retries;
- ``SourceError``: a permanent failure (bad signature, missing permission): no retry.

Timeouts, connection errors, HTTP 5xx and 429 are retried without help from ``check``.
When the attempts are spent the call fails with a ``SourceError`` naming the source, the
URL (secrets redacted) and the last error.

httpx builds each request and models each response (what ``check`` sees is unchanged);
the exchange itself goes through ``KeepAliveTransport``, an httpx transport over libcurl
(pycurl) handles that keep their connections alive, far cheaper per call than httpx's own
(httpcore), urllib3's pool or ``http.client``, and off the GIL while it waits (decisions
0024, 0025, 0063). With a proxy configured in the environment the client keeps httpx's
transport, which honours it.
"""

from __future__ import annotations

import io
import os
import random
import re
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, TypeVar
from urllib.parse import quote_plus

import certifi
import httpx
import pycurl
import tenacity

from ingest.core import SourceError

__all__ = [
    "ApiClient",
    "AuthExpired",
    "KeepAliveTransport",
    "RetryPolicy",
    "Retryable",
    "SourceError",
    "next_link",
    "pages",
    "redact",
    "retry_after",
]

T = TypeVar("T")
S = TypeVar("S")
Request = dict[str, Any]  # keyword arguments of httpx.Client.request
_SECRET = re.compile(r"(token|secret|sign|session|password|key)", re.I)


class Retryable(Exception):
    """A transient failure; ``after`` is how long the server asked us to wait (seconds)."""

    def __init__(self, reason: str, after: float | None = None) -> None:
        super().__init__(reason)
        self.after = after


class AuthExpired(Exception):
    """The access token was refused as expired or invalid; refresh it and try again."""


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int = 6
    base: float = 0.5  # first backoff, doubled per attempt
    max_wait: float = 30.0  # longest backoff of our own
    max_after: float = 120.0  # longest wait a server may ask for


def retry_after(response: httpx.Response) -> float | None:
    """Seconds from a ``Retry-After`` header (numeric form), if any."""
    value = response.headers.get("Retry-After")
    try:
        return max(0.0, float(value)) if value is not None else None
    except ValueError:
        return None


def redact(url: httpx.URL | str) -> str:
    """The URL with token/secret/sign query values replaced by ``***``."""
    u = httpx.URL(str(url))
    if not u.params:
        return str(u)
    query = "&".join(f"{k}={'***' if _SECRET.search(k) else v}" for k, v in u.params.multi_items())
    return f"{u.copy_with(query=None)}?{query}"


def _describe(exc: BaseException) -> str:
    text = str(exc) or type(exc).__name__
    return f"{type(exc).__name__}: {text}" if not isinstance(exc, Retryable) else text


class ApiClient:
    """One httpx client per stream run; ``send`` retries according to ``policy``."""

    def __init__(
        self,
        source: str,
        *,
        timeout: float = 30.0,
        policy: RetryPolicy | None = None,
        refresh: Callable[[], None] | None = None,
        headers: dict[str, str] | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.source = source
        self.policy = policy or RetryPolicy()
        self.refresh = refresh
        self.sleep = sleep
        self.http = httpx.Client(timeout=timeout, headers=headers)
        # None: httpx's own transport, which honours a proxy from the environment
        self._transport = None if _env_proxies() else KeepAliveTransport(timeout)
        self.requests = 0
        # windows may be read by several threads: one refresh per expiry, not one per thread
        self._auth = threading.RLock()
        self._token_generation = 0
        self._local = threading.local()
        self._urls: dict[str, httpx.URL] = {}  # parsed once per URL text

    def close(self) -> None:
        self.http.close()
        if self._transport is not None:
            self._transport.close()

    def __enter__(self) -> ApiClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _wait(self, state: tenacity.RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome else None
        if isinstance(exc, AuthExpired):
            return 0.0
        if isinstance(exc, Retryable) and exc.after is not None:
            return min(exc.after, self.policy.max_after)
        backoff = min(self.policy.base * 2 ** (state.attempt_number - 1), self.policy.max_wait)
        return backoff * (0.5 + random.random() / 2)

    def _before_sleep(self, state: tenacity.RetryCallState) -> None:
        exc = state.outcome.exception() if state.outcome else None
        if isinstance(exc, AuthExpired):
            if self.refresh is None:
                raise SourceError(f"{self.source}: access refused ({exc}); re-authorize")
            with self._auth:
                # another thread may have refreshed since this attempt was built
                if getattr(self._local, "generation", 0) == self._token_generation:
                    self.refresh()
                    self._token_generation += 1

    def _attempt(
        self, build: Callable[[], Request], check: Callable[[httpx.Response], T] | None
    ) -> T | httpx.Response:
        self._local.generation = self._token_generation
        spec = build()
        self.requests += 1
        response = self._exchange(self._request(spec))
        if response.status_code == 429 or response.status_code >= 500:
            raise Retryable(f"HTTP {response.status_code}", after=retry_after(response))
        if check is not None:
            return check(response)
        if response.status_code >= 400:
            raise SourceError(
                f"{self.source}: {spec.get('method', 'GET')} {redact(response.request.url)} "
                f"answered HTTP {response.status_code}: {response.text[:300]}"
            )
        return response

    def _request(self, spec: Request) -> httpx.Request:
        """``spec`` as an ``httpx.Request``. A plain form POST (TOP, JD: thousands a run) is
        built directly, with the client's headers: ``Client.build_request`` merges URLs,
        params and cookies for ~0.09 ms a call, this ~0.045 ms (decision 0063)."""
        data = spec.get("data")
        if (
            spec.keys() == _FORM_KEYS
            and not self.http.cookies
            and isinstance(data, dict)
            and all(type(k) is str and type(v) is str for k, v in data.items())
        ):
            url = self._urls.get(spec["url"])
            if url is None:
                url = self._urls[spec["url"]] = httpx.URL(spec["url"])
            body = form_body(data)
            headers = self.http.headers.copy()
            headers["Content-Type"] = "application/x-www-form-urlencoded"
            return httpx.Request(spec["method"], url, headers=headers, content=body)
        return self.http.build_request(**spec)

    def _exchange(self, request: httpx.Request) -> httpx.Response:
        """Send ``request`` on a kept-alive connection; the answer as httpx models it (body
        decoded per ``Content-Encoding``, cookies kept in the client's jar). The transport
        is called directly: ``httpx.Client.send`` around it (auth, redirects, hooks) would
        add ~0.1 ms a call for nothing a connector uses."""
        if self._transport is None:
            return self.http.send(request)
        response = self._transport.handle_request(request)
        if "set-cookie" in response.headers:
            self.http.cookies.extract_cookies(response)
        return response

    def send(
        self, build: Callable[[], Request], check: Callable[[httpx.Response], T] | None = None
    ) -> Any:
        """One logical call: ``build()`` makes the request kwargs anew for every attempt."""
        # the first attempt outside tenacity: most calls succeed at once, and a Retrying
        # made and run for every call cost ~0.05 ms of CPU (decision 0063); a first failure
        # is then its attempt 1, waited for and counted as before
        try:
            return self._attempt(build, check)
        except _RETRIED as exc:
            failed: BaseException | None = exc

        def attempt() -> T | httpx.Response:
            nonlocal failed
            if failed is not None:
                first, failed = failed, None
                raise first
            return self._attempt(build, check)

        retrying = tenacity.Retrying(
            stop=tenacity.stop_after_attempt(self.policy.attempts),
            wait=self._wait,
            retry=tenacity.retry_if_exception_type(_RETRIED),
            before_sleep=self._before_sleep,
            sleep=self.sleep,
        )
        try:
            return retrying(attempt)
        except tenacity.RetryError as err:
            last = err.last_attempt.exception()
            spec = build()
            url = httpx.URL(spec["url"])
            if spec.get("params"):
                url = url.copy_merge_params(spec["params"])
            raise SourceError(
                f"{self.source}: {spec.get('method', 'GET')} {redact(url)} failed after "
                f"{self.policy.attempts} attempts; last error: {_describe(last)}"
            ) from last


_FORM_KEYS = {"method", "url", "data"}
# what ``urlencode`` (``quote_plus``) leaves as it is
_UNRESERVED = re.compile(r"[A-Za-z0-9_.~-]*")


def form_body(data: dict[str, str]) -> bytes:
    """``urlencode(data).encode()`` for str keys and values, ~4× faster: most TOP and JD
    parameters need no quoting, and ``quote_plus`` costs ~1.5 µs a call even then."""
    safe = _UNRESERVED.fullmatch
    return "&".join(
        f"{k if safe(k) else quote_plus(k)}={v if safe(v) else quote_plus(v)}"
        for k, v in data.items()
    ).encode()


_RETRIED = (Retryable, AuthExpired, httpx.TimeoutException, httpx.TransportError)


def _env_proxies() -> bool:
    """Whether the environment names an HTTP(S) proxy (httpx honours it; our transport not)."""
    proxies = urllib.request.getproxies_environment()
    return any(k in proxies for k in ("http", "https", "all"))


def next_link(response: httpx.Response) -> str | None:
    """The ``rel="next"`` URL of a ``Link`` header (Shopify-style cursor paging)."""
    return response.links.get("next", {}).get("url")


def pages(first: S, fetch: Callable[[S], tuple[list[T], S | None]]) -> Iterator[list[T]]:
    """Follow a paging state until ``fetch`` returns no next state.

    ``fetch(state)`` returns the page's records and the next state (page number + 1,
    offset + limit, a next-link URL or a cursor value) or None after the last page.
    """
    state: S | None = first
    while state is not None:
        records, state = fetch(state)
        yield records


class KeepAliveTransport(httpx.BaseTransport):
    """An httpx transport over libcurl (pycurl) easy handles, each keeping its connections
    alive: a request in, an ``httpx.Response`` out, transport errors as httpx's.

    An API connector makes thousands of calls to one or two hosts from a few threads.
    libcurl does the whole exchange (framing, chunks, keep-alive, a kept connection the
    server closed replaced once, TLS) with the GIL released, so the threads reading other
    windows run meanwhile. A 140 KB TOP page cost ~0.22 ms of CPU a call here against
    ~0.26 ms with the standard library's ``http.client`` (whose ``email`` header parser
    alone held the GIL ~11 % of a run) and ~0.46 ms with urllib3 (decisions 0025, 0063).
    Ours is only the idle pool of handles (a handle serves one thread at a time), the
    options and the mapping of libcurl's errors. Timeouts: ``timeout`` seconds to connect
    and for the whole call.
    No proxies (``ApiClient`` keeps httpx's transport when one is configured), HTTP/1.1.
    """

    def __init__(self, timeout: float = 30.0, keep: int = 16) -> None:
        self.timeout = timeout
        self.keep = keep  # idle handles kept (windows read at once)
        self._idle: list[pycurl.Curl] = []
        self._lock = threading.Lock()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        url = request.url
        if url.scheme not in ("http", "https"):
            raise httpx.UnsupportedProtocol(f"unsupported scheme {url.scheme!r}", request=request)
        with self._lock:
            curl = self._idle.pop() if self._idle else None
        if curl is None:
            curl = pycurl.Curl()
        try:
            response = self._exchange(curl, request)
        except BaseException:
            curl.close()  # its connection may be half-used
            raise
        with self._lock:
            if len(self._idle) < self.keep:
                self._idle.append(curl)
                return response
        curl.close()
        return response

    def close(self) -> None:
        with self._lock:
            idle, self._idle = self._idle, []
        for curl in idle:
            curl.close()

    def _exchange(self, curl: pycurl.Curl, request: httpx.Request) -> httpx.Response:
        curl.reset()  # options only: the handle keeps its live connections
        body = request.read()
        lines: list[bytes] = []
        sink = io.BytesIO()
        ms = max(1, round(self.timeout * 1000))
        setopt = curl.setopt
        setopt(pycurl.URL, str(request.url))
        setopt(pycurl.HTTP_VERSION, pycurl.CURL_HTTP_VERSION_1_1)
        setopt(pycurl.NOSIGNAL, 1)  # threads: timeouts without SIGALRM
        setopt(pycurl.TCP_NODELAY, 1)
        setopt(pycurl.PROXY, "")  # never the environment's: httpx's transport handles those
        setopt(pycurl.CONNECTTIMEOUT_MS, ms)
        setopt(pycurl.TIMEOUT_MS, ms)
        setopt(pycurl.BUFFERSIZE, _BUFFER)  # fewer write calls (each takes the GIL)
        if request.url.scheme == "https":
            setopt(pycurl.CAINFO, os.environ.get("SSL_CERT_FILE") or certifi.where())
            if os.environ.get("SSL_CERT_DIR"):
                setopt(pycurl.CAPATH, os.environ["SSL_CERT_DIR"])
        method = request.method
        if method == "HEAD":
            setopt(pycurl.NOBODY, 1)
        elif method == "GET" and not body:
            setopt(pycurl.HTTPGET, 1)
        else:
            setopt(pycurl.POSTFIELDS, body)
            if method != "POST":
                setopt(pycurl.CUSTOMREQUEST, method)
        # httpx's headers as they are (Host, Content-Length, Accept-Encoding included; httpx
        # decodes the body per Content-Encoding); an empty "Expect:" stops libcurl's
        # 100-continue round trip on large bodies
        headers = [b"%s: %s" % (k, v) for k, v in request.headers.raw]
        headers.append(b"Expect:")
        setopt(pycurl.HTTPHEADER, headers)
        setopt(pycurl.HEADERFUNCTION, lines.append)
        setopt(pycurl.WRITEDATA, sink)
        try:
            curl.perform()
        except pycurl.error as exc:
            raise _httpx_error(curl, exc, request) from exc
        return httpx.Response(
            curl.getinfo(pycurl.RESPONSE_CODE),
            headers=_final_headers(lines),
            content=sink.getvalue(),
            request=request,
        )


_BUFFER = 512 * 1024
_CONNECT_ERRORS = {
    pycurl.E_COULDNT_RESOLVE_HOST,
    pycurl.E_COULDNT_CONNECT,
    pycurl.E_SSL_CONNECT_ERROR,
    pycurl.E_PEER_FAILED_VERIFICATION,
    pycurl.E_SSL_CACERT_BADFILE,
}


def _httpx_error(curl: pycurl.Curl, exc: pycurl.error, request: httpx.Request) -> Exception:
    code, text = exc.args[0], str(exc.args[1] if len(exc.args) > 1 else exc)
    if code == pycurl.E_OPERATION_TIMEDOUT:
        # no local port: no connection was made (a kept one that went quiet has its port,
        # and a connect time of 0)
        if curl.getinfo(pycurl.LOCAL_PORT) <= 0:
            return httpx.ConnectTimeout(text, request=request)
        return httpx.ReadTimeout(text, request=request)
    if code in _CONNECT_ERRORS:
        return httpx.ConnectError(text, request=request)
    if code == pycurl.E_WRITE_ERROR:  # our sink refused the data (memory)
        return httpx.ReadError(text, request=request)
    # nothing, garbage, a cut body, a reset: the server's answer was not a whole HTTP one
    return httpx.RemoteProtocolError(f"{text} (libcurl error {code})", request=request)


def _final_headers(lines: list[bytes]) -> list[tuple[bytes, bytes]]:
    """The header fields of the last answer libcurl handed over line by line (interim
    ``1xx`` answers and a chunked body's trailer lines included): from its status line on."""
    headers: list[tuple[bytes, bytes]] = []
    for line in lines:
        if line.startswith(b"HTTP/"):
            headers = []  # an interim answer's fields are not the final answer's
            continue
        name, sep, value = line.partition(b":")
        if sep:
            headers.append((name.strip(), value.strip()))
    return headers
