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

httpx builds each request and models each response (what ``check`` sees is unchanged),
but the exchange itself goes through a urllib3 connection pool: a TOP page call cost
~0.8-1.1 ms of CPU through httpx's transport here against ~0.3-0.4 ms through urllib3 on
the same keep-alive connection, and answered in ~1.1 ms instead of 2-4.6 ms; a whole
``send`` went from ~0.7-0.9 ms to ~0.6-0.75 ms of CPU (decision 0024). With a proxy
configured in the environment the client keeps httpx's transport, which honours it.
"""

from __future__ import annotations

import random
import re
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, TypeVar

import httpx
import tenacity
import urllib3

from ingest.core import SourceError

__all__ = [
    "ApiClient",
    "AuthExpired",
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
        self._pool = None if _env_proxies() else _pool(timeout)
        self._hosts: dict[tuple[str, str, int | None], urllib3.HTTPConnectionPool] = {}
        self.requests = 0
        # windows may be read by several threads: one refresh per expiry, not one per thread
        self._auth = threading.RLock()
        self._token_generation = 0
        self._local = threading.local()

    def close(self) -> None:
        self.http.close()
        if self._pool is not None:
            self._pool.clear()

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
        """Send ``request`` on a pooled keep-alive connection; the answer as httpx models it
        (body decoded per ``Content-Encoding`` by httpx, cookies kept in the client's jar)."""
        if self._pool is None:
            return self.http.send(request)
        try:
            try:
                raw = self._urlopen(request)
            except urllib3.exceptions.ClosedPoolError:  # evicted by the manager meanwhile
                self._hosts.clear()
                raw = self._urlopen(request)
        except urllib3.exceptions.HTTPError as exc:
            raise _as_httpx(exc, request) from exc
        response = httpx.Response(
            raw.status, headers=list(raw.headers.items()), content=raw.data, request=request
        )
        if "set-cookie" in raw.headers:
            self.http.cookies.extract_cookies(response)
        return response

    def _urlopen(self, request: httpx.Request) -> urllib3.BaseHTTPResponse:
        url = request.url
        key = (url.scheme, url.host, url.port)
        pool = self._hosts.get(key)
        if pool is None:
            # the manager's own look-up builds and normalises a pool key on every call
            # (~0.05-0.15 ms of CPU a call here); a client talks to one or two hosts
            assert self._pool is not None
            pool = self._hosts[key] = self._pool.connection_from_host(
                url.host, url.port, url.scheme
            )
        return pool.urlopen(
            request.method,
            url.raw_path.decode("ascii"),  # path and query, as the manager sends them
            body=request.content,
            headers=dict(request.headers),
            redirect=False,  # as httpx: redirects are not followed
            retries=False,  # tenacity retries, with a fresh request each time
            assert_same_host=False,
            preload_content=True,
            decode_content=False,  # httpx.Response decodes
        )

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
    """Whether the environment names an HTTP(S) proxy (httpx honours it; urllib3's pool not)."""
    proxies = urllib.request.getproxies_environment()
    return any(k in proxies for k in ("http", "https", "all"))


def _pool(timeout: float) -> urllib3.PoolManager:
    return urllib3.PoolManager(
        num_pools=32,  # hosts kept (a client talks to one or two)
        maxsize=16,  # windows read at once, one connection each; extra ones are not kept
        block=False,
        timeout=urllib3.Timeout(connect=timeout, read=timeout),
        retries=False,
        ssl_context=httpx.create_ssl_context(),  # httpx's certificates (certifi, SSL_CERT_*)
    )


def _as_httpx(exc: urllib3.exceptions.HTTPError, request: httpx.Request) -> httpx.TransportError:
    """urllib3's error as the httpx error of the same kind, which ``send`` retries and names."""
    errors = urllib3.exceptions
    kind: type[httpx.TransportError]
    if isinstance(exc, errors.NewConnectionError):  # a subclass of ConnectTimeoutError
        kind = httpx.ConnectError
    elif isinstance(exc, errors.ConnectTimeoutError):
        kind = httpx.ConnectTimeout
    elif isinstance(exc, errors.ReadTimeoutError | errors.TimeoutError):
        kind = httpx.ReadTimeout
    elif isinstance(exc, errors.ProtocolError):
        kind = httpx.RemoteProtocolError
    else:
        kind = httpx.TransportError
    return kind(str(exc), request=request)


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
