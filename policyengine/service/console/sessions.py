"""Who is signed in to the console: a session cookie, and the token that keeps its forms
from being posted by another site.

The cookie holds the signed-in token's digest (never the token), when the session ends and
the session's form token, signed with the service's session key (HMAC-SHA256), so every
worker of one service reads it and no one can make one. The key is made for each run
(`ServiceConfig.session_key`), or read from `serve --console-key-file` so that instances
behind one balancer share sessions. Each request looks the digest up in the service's
tokens again: a token taken out of the tokens file ends its sessions at the next reload.
The cookie is HttpOnly (no script reads it), SameSite=Strict (no other site's page sends
it), Secure over HTTPS, and scoped to /console.

Every form that changes something carries the session's form token, and its handler checks
it (`form_token_matches`); signing in, before any session, uses a short-lived token of its
own, in a cookie and in the form (both must match).
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time
from dataclasses import dataclass
from pathlib import Path

COOKIE = "policyengine_console"
SIGN_IN_COOKIE = "policyengine_console_sign_in"
PATH = "/console"
#: how long a session lasts, in seconds
LIFETIME = 8 * 3600
#: how long a sign-in form may wait to be sent
SIGN_IN_LIFETIME = 15 * 60
#: the fewest bytes a console key file holds
MIN_KEY_BYTES = 32


class ConsoleKeyError(ValueError):
    """A console key file that cannot be read or is too short."""


def key_from_file(path: str) -> str:
    """The session key (hex) of a console key file: its bytes hashed, so instances given the
    same file sign and read each other's sessions."""
    try:
        secret = Path(path).read_bytes().strip()
    except OSError as error:
        raise ConsoleKeyError(f"cannot read the console key file {path}: {error.strerror or error}") from None
    if len(secret) < MIN_KEY_BYTES:
        raise ConsoleKeyError(f"{path} holds {len(secret)} bytes; a console key needs at least {MIN_KEY_BYTES}")
    return hashlib.sha256(b"policyengine console sessions\0" + secret).hexdigest()


@dataclass(frozen=True)
class Session:
    """A signed-in console session: whose token (its sha256), until when, its form token."""

    token_digest: str
    expires: int
    form_token: str


def new_session(token_digest: str, now: float | None = None) -> Session:
    return Session(token_digest, int((now or time.time()) + LIFETIME), secrets.token_urlsafe(24))


def seal(session: Session, key: bytes) -> str:
    """The cookie value of a session: its fields and their signature."""
    body = base64.urlsafe_b64encode(json.dumps([session.token_digest, session.expires, session.form_token]).encode())
    return f"{body.decode()}.{_signature(body, key)}"


def opened(value: str | None, key: bytes, now: float | None = None) -> Session | None:
    """The session a cookie value holds, or None when it is absent, not signed with `key`,
    malformed or expired."""
    if not value or "." not in value:
        return None
    body, signature = value.rsplit(".", 1)
    if not hmac.compare_digest(signature, _signature(body.encode(), key)):
        return None
    try:
        digest, expires, form_token = json.loads(base64.urlsafe_b64decode(body.encode()))
    except (ValueError, TypeError):
        return None
    if not (isinstance(digest, str) and isinstance(expires, int) and isinstance(form_token, str)):
        return None
    return Session(digest, expires, form_token) if expires > (now or time.time()) else None


def sign_in_token(key: bytes, now: float | None = None) -> str:
    """A token for the sign-in form (its cookie and its hidden field carry the same), good
    for SIGN_IN_LIFETIME."""
    expires = str(int((now or time.time()) + SIGN_IN_LIFETIME))
    nonce = secrets.token_urlsafe(16)
    return f"{nonce}.{expires}.{_signature(f'{nonce}.{expires}'.encode(), key)}"


def sign_in_token_valid(cookie: str | None, field: str | None, key: bytes, now: float | None = None) -> bool:
    """Whether the sign-in form's field and cookie are the same token, made with `key`, not expired."""
    if not cookie or not field or not hmac.compare_digest(cookie, field) or cookie.count(".") != 2:
        return False
    nonce, expires, signature = cookie.split(".")
    return (hmac.compare_digest(signature, _signature(f"{nonce}.{expires}".encode(), key))
            and expires.isdigit() and int(expires) > (now or time.time()))


def form_token_matches(session: Session, sent: str | None) -> bool:
    return sent is not None and hmac.compare_digest(session.form_token, sent)


def cookie_header(name: str, value: str, max_age: int, secure: bool) -> str:
    """A Set-Cookie value: HttpOnly, SameSite=Strict, scoped to the console."""
    return (f"{name}={value}; Max-Age={max_age}; Path={PATH}; HttpOnly; SameSite=Strict"
            + ("; Secure" if secure else ""))


def _signature(body: bytes, key: bytes) -> str:
    return base64.urlsafe_b64encode(hmac.new(key, body, hashlib.sha256).digest()).decode().rstrip("=")
