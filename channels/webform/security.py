"""Protection of the public pages: CSRF tokens, rate limits, client address, headers.

CSRF uses signed double-submit tokens: the browser holds a random cookie
(`SameSite=Strict`, `HttpOnly`), and each rendered form carries
`issued.nonce.HMAC(key, account|issued|nonce|cookie)`. A post from another
site has neither the cookie nor a token bound to it; no server-side session
is kept, so any number of front-ends can check tokens when they share the
key. The nonce doubles as the submission's id (a double click is one input).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from collections import deque
from dataclasses import dataclass

from aiohttp import web

CSRF_COOKIE = "wf_csrf"
CSRF_MAX_AGE_SECONDS = 4 * 3600
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
    "frame-ancestors 'none'; base-uri 'none'"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(), interest-cohort=()",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
}


@dataclass(frozen=True)
class CsrfToken:
    value: str
    nonce: str


class Csrf:
    """Issues and checks tokens bound to an account and to the browser's cookie."""

    def __init__(self, key: bytes) -> None:
        self._key = key

    @staticmethod
    def new_cookie() -> str:
        return secrets.token_urlsafe(24)

    def issue(self, account: str, cookie: str, now: float | None = None) -> CsrfToken:
        issued = str(int(now if now is not None else time.time()))
        nonce = secrets.token_urlsafe(16)
        return CsrfToken(f"{issued}.{nonce}.{self._sign(account, issued, nonce, cookie)}", nonce)

    def check(self, account: str, cookie: str | None, token: str | None) -> str | None:
        """The token's nonce when it is genuine, fresh and bound to `cookie`, else None."""
        if not cookie or not token or len(token) > 200:
            return None
        parts = token.split(".")
        if len(parts) != 3 or not parts[0].isdigit():
            return None
        issued, nonce, signature = parts
        if not 0 <= time.time() - int(issued) <= CSRF_MAX_AGE_SECONDS:
            return None
        expected = self._sign(account, issued, nonce, cookie)
        return nonce if hmac.compare_digest(expected, signature) else None

    def _sign(self, account: str, issued: str, nonce: str, cookie: str) -> str:
        message = f"{account}|{issued}|{nonce}|{cookie}".encode()
        return hmac.new(self._key, message, hashlib.sha256).hexdigest()[:40]


class RateLimiter:
    """A sliding window per key (a client address, a reference), kept in memory.

    Memory is bounded: when too many keys are held, the ones with no event
    in the window are dropped. In-process by design: each front-end limits
    what reaches it, which is what protects the process; with several
    front-ends the effective limit is their number times the setting.
    """

    def __init__(self, max_keys: int = 50_000) -> None:
        self._events: dict[str, deque[float]] = {}
        self._max_keys = max_keys

    def hit(self, key: str, count: int, seconds: float, now: float | None = None) -> float:
        """Count one event; 0 when allowed, else the seconds until the next is allowed."""
        now = time.monotonic() if now is None else now
        wait = self.blocked_for(key, count, seconds, now)
        if wait == 0:
            self._events.setdefault(key, deque()).append(now)
            self._prune(seconds, now)
        return wait

    def blocked_for(self, key: str, count: int, seconds: float, now: float | None = None) -> float:
        """Seconds until `key` may act again without counting an event (0: it may now)."""
        now = time.monotonic() if now is None else now
        events = self._events.get(key)
        if not events:
            return 0.0
        while events and events[0] <= now - seconds:
            events.popleft()
        if len(events) < count:
            return 0.0
        return max(events[0] + seconds - now, 0.001)

    def _prune(self, seconds: float, now: float) -> None:
        if len(self._events) <= self._max_keys:
            return
        for key in [k for k, v in self._events.items() if not v or v[-1] <= now - seconds]:
            del self._events[key]
        if len(self._events) > self._max_keys:  # still full: forget the oldest half
            for key in list(self._events)[: len(self._events) // 2]:
                del self._events[key]


def client_address(request: web.Request, trust_forwarded_for: bool) -> str:
    """The client's address; behind a trusted proxy, the last X-Forwarded-For hop."""
    if trust_forwarded_for:
        forwarded = request.headers.get("X-Forwarded-For", "")
        hops = [hop.strip() for hop in forwarded.split(",") if hop.strip()]
        if hops:
            return hops[-1][:64]
    return request.remote or "unknown"


def secure(response: web.StreamResponse, *, cache: bool = False) -> web.StreamResponse:
    """Add the security headers; pages with tokens or answers are never cached."""
    response.headers.update(SECURITY_HEADERS)
    if not cache:
        response.headers["Cache-Control"] = "no-store"
    return response
