"""Passwords, CSRF tokens, one-time form tokens and the security headers every response carries."""

from __future__ import annotations

import hmac
import os
import secrets
from pathlib import Path

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from hairtrack.errors import HairtrackError

__all__ = [
    "hash_password",
    "verify_password",
    "needs_rehash",
    "new_token",
    "tokens_match",
    "load_or_create_secret",
    "SecurityHeaders",
    "BodySizeLimit",
    "MIN_PASSWORD_LENGTH",
]

# Argon2id, memory-hard (RFC 9106's second recommended option: 64 MiB, 3 passes).
_HASHER = PasswordHasher(time_cost=3, memory_cost=64 * 1024, parallelism=1)
MIN_PASSWORD_LENGTH = 10

CSP = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; object-src 'none'; "
    "base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)


def hash_password(password: str) -> str:
    return _HASHER.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _HASHER.verify(password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    return _HASHER.check_needs_rehash(password_hash)


def new_token() -> str:
    return secrets.token_urlsafe(32)


def tokens_match(expected: str | None, given: str | None) -> bool:
    return bool(expected) and bool(given) and hmac.compare_digest(str(expected), str(given))


def load_or_create_secret(path: Path) -> str:
    """The key that signs session cookies: kept in the data folder (owner-only), made once.

    A key file that is too short to be a real key (empty, truncated) is refused rather than trusted.
    """
    if path.exists():
        secret = path.read_text().strip()
        if len(secret) < 32:
            raise HairtrackError(f"{path} holds no usable session key (under 32 characters); delete it to make a new one")
        return secret
    path.parent.mkdir(parents=True, exist_ok=True)
    secret = secrets.token_urlsafe(48)
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)  # never readable by others, not even briefly
    with os.fdopen(fd, "w") as fh:
        fh.write(secret)
    tmp.replace(path)
    return secret


class SecurityHeaders:
    """Adds the headers that keep pages from being framed, sniffed or made to run foreign scripts."""

    def __init__(self, app: ASGIApp, *, hsts: bool = False):
        self.app = app
        self.hsts = hsts

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                names = {k.lower() for k, _ in headers}
                extra = {
                    b"content-security-policy": CSP.encode(),
                    b"x-content-type-options": b"nosniff",
                    b"x-frame-options": b"DENY",
                    b"referrer-policy": b"no-referrer",
                    b"permissions-policy": b"camera=(self), microphone=(), geolocation=()",
                    b"cross-origin-opener-policy": b"same-origin",
                }
                if self.hsts:
                    extra[b"strict-transport-security"] = b"max-age=31536000"
                headers += [(k, v) for k, v in extra.items() if k not in names]
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_headers)


class BodySizeLimit:
    """Refuses a request body over ``max_bytes`` with 413 before it is read (by Content-Length, and while
    streaming for chunked uploads that do not declare one)."""

    def __init__(self, app: ASGIApp, *, max_bytes: int):
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers", [])).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            await self._refuse(scope, send)
            return
        seen = 0

        async def counting_receive() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_bytes:
                    raise _TooLarge()
            return message

        try:
            await self.app(scope, counting_receive, send)
        except _TooLarge:
            await self._refuse(scope, send)

    async def _refuse(self, scope: Scope, send: Send) -> None:
        limit_mb = self.max_bytes / 2**20
        text = f"The upload is larger than the {limit_mb:.0f} MB limit. Nothing was saved."
        wants_json = scope.get("path", "").startswith("/api/")
        body = (
            ('{"detail": "%s"}' % text).encode() if wants_json
            else f"<!doctype html><title>Too large</title><p>{text}</p><p><a href=\"/\">Back</a></p>".encode()
        )
        await send({
            "type": "http.response.start", "status": 413,
            "headers": [(b"content-type", b"application/json" if wants_json else b"text/html; charset=utf-8"),
                        (b"content-length", str(len(body)).encode())],
        })
        await send({"type": "http.response.body", "body": body})


class _TooLarge(Exception):
    pass
