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
the exchange itself goes through ``KeepAliveTransport``, an httpx transport over the
standard library's ``http.client`` connections kept alive per host, far cheaper per call
than httpx's own (httpcore) or urllib3's pool (decisions 0024, 0025). With a proxy
configured in the environment the client keeps httpx's transport, which honours it.
"""

from __future__ import annotations

import http.client
import random
import re
import socket
import ssl
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, TypeVar

import httpx
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
        response = self._exchange(self.http.build_request(**spec))
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
        retrying = tenacity.Retrying(
            stop=tenacity.stop_after_attempt(self.policy.attempts),
            wait=self._wait,
            retry=tenacity.retry_if_exception_type(
                (Retryable, AuthExpired, httpx.TimeoutException, httpx.TransportError)
            ),
            before_sleep=self._before_sleep,
            sleep=self.sleep,
        )
        try:
            return retrying(self._attempt, build, check)
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
    """An httpx transport over the standard library's ``http.client`` connections, kept
    alive per host: a request in, an ``httpx.Response`` out, transport errors as httpx's.

    An API connector makes thousands of small calls to one or two hosts; per call, httpx's
    own transport (httpcore) cost ~0.8-1.1 ms of CPU here, urllib3's pool ~0.46 ms and a
    bare ``http.client`` connection ~0.29 ms (decisions 0024, 0025). The protocol (framing,
    chunks, interim answers, keep-alive) is ``http.client``'s; ours is only the idle pool.
    No proxies (``ApiClient`` keeps httpx's transport when one is configured), no HTTP/2.
    """

    def __init__(
        self, timeout: float = 30.0, ssl_context: ssl.SSLContext | None = None, keep: int = 16
    ) -> None:
        self.timeout = timeout
        self.keep = keep  # idle connections kept per host (windows read at once)
        self._ssl = ssl_context
        self._idle: dict[tuple[str, str, int], list[http.client.HTTPConnection]] = {}
        self._lock = threading.Lock()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        url = request.url
        if url.scheme not in ("http", "https"):
            raise httpx.UnsupportedProtocol(f"unsupported scheme {url.scheme!r}", request=request)
        key = (url.scheme, url.host, url.port or (443 if url.scheme == "https" else 80))
        body = request.read()
        conn = self._take(key)
        if conn is not None:
            try:
                return self._exchange(key, conn, request, body)
            except _Stale:  # the server closed it while idle: once more on a new one
                pass
        conn = self._connect(key, request)
        try:
            return self._exchange(key, conn, request, body)
        except _Stale as exc:
            raise httpx.RemoteProtocolError(str(exc), request=request) from None

    def close(self) -> None:
        with self._lock:
            idle = [c for conns in self._idle.values() for c in conns]
            self._idle.clear()
        for conn in idle:
            conn.close()

    def _take(self, key: tuple[str, str, int]) -> http.client.HTTPConnection | None:
        with self._lock:
            conns = self._idle.get(key)
            return conns.pop() if conns else None

    def _put(self, key: tuple[str, str, int], conn: http.client.HTTPConnection) -> None:
        with self._lock:
            conns = self._idle.setdefault(key, [])
            if len(conns) < self.keep:
                conns.append(conn)
                return
        conn.close()

    def _connect(
        self, key: tuple[str, str, int], request: httpx.Request
    ) -> http.client.HTTPConnection:
        scheme, host, port = key
        conn: http.client.HTTPConnection
        if scheme == "https":
            if self._ssl is None:  # httpx's certificates (certifi, SSL_CERT_*), made once
                self._ssl = httpx.create_ssl_context()
            conn = http.client.HTTPSConnection(host, port, timeout=self.timeout, context=self._ssl)
        else:
            conn = http.client.HTTPConnection(host, port, timeout=self.timeout)
        try:
            conn.connect()
        except TimeoutError as exc:
            conn.close()
            raise httpx.ConnectTimeout(str(exc) or "connect timed out", request=request) from exc
        except OSError as exc:  # refused, unreachable, ssl.SSLError
            conn.close()
            raise httpx.ConnectError(str(exc), request=request) from exc
        assert conn.sock is not None
        conn.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)  # one small write a call
        return conn

    def _exchange(
        self,
        key: tuple[str, str, int],
        conn: http.client.HTTPConnection,
        request: httpx.Request,
        body: bytes,
    ) -> httpx.Response:
        answered = False
        try:
            # httpx's headers as they are (Host, Content-Length and Accept-Encoding included)
            conn.putrequest(
                request.method,
                request.url.raw_path.decode("ascii"),
                skip_host=True,
                skip_accept_encoding=True,
            )
            for name, value in request.headers.raw:
                conn.putheader(name, value)
            conn.endheaders(body)
            response = conn.getresponse()
            answered = True
            content = response.read()
        except TimeoutError as exc:
            conn.close()
            raise httpx.ReadTimeout(str(exc) or "read timed out", request=request) from exc
        except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError) as exc:
            conn.close()
            if not answered:
                raise _Stale(str(exc) or "the server closed the connection") from exc
            raise httpx.RemoteProtocolError(str(exc), request=request) from exc
        except (OSError, http.client.HTTPException) as exc:  # a malformed or cut answer
            conn.close()
            raise httpx.RemoteProtocolError(
                f"{type(exc).__name__}: {exc}", request=request
            ) from exc
        if response.will_close:
            conn.close()
        else:
            self._put(key, conn)
        # raw header bytes (http.client decodes them as Latin-1); httpx decodes ``content``
        # per Content-Encoding as it reads it
        headers = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in response.getheaders()]
        return httpx.Response(response.status, headers=headers, content=content, request=request)


class _Stale(Exception):
    """A kept connection the server had closed: nothing of the answer arrived."""
