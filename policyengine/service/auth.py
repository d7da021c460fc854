"""Who may call what: bearer tokens, each with a name (recorded as the caller in the
decision log) and roles. `decide` is for billing systems (decisions, batches, verify);
`audit` is for auditors (the decision log, explanations, verify, reloading the packs).

Tokens come from a file (`serve --tokens FILE`) or the environment variable
POLICYENGINE_SERVICE_TOKENS, one a line: `NAME ROLE[,ROLE] TOKEN` (`#` starts a comment).
Only each token's sha256 is kept, so a lookup takes the same time whichever token is sent.
"""
from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

ROLES = ("decide", "audit")
ENVIRONMENT_VARIABLE = "POLICYENGINE_SERVICE_TOKENS"


class TokenFileError(ValueError):
    """The tokens cannot be read or a line is not NAME ROLES TOKEN."""


@dataclass(frozen=True)
class Caller:
    name: str
    roles: frozenset[str]


class Tokens:
    """The configured tokens: `caller(token)` is who sends it, or None."""

    def __init__(self, callers: dict[str, Caller]) -> None:
        self._by_digest = callers

    def __len__(self) -> int:
        return len(self._by_digest)

    def caller(self, token: str) -> Caller | None:
        return self._by_digest.get(token_digest(token))

    def caller_of_digest(self, digest: str) -> Caller | None:
        """Who holds the token with this sha256 (a console session keeps the digest, never the token)."""
        return self._by_digest.get(digest)

    @classmethod
    def parse(cls, text: str, source: str) -> Tokens:
        callers: dict[str, Caller] = {}
        for number, line in enumerate(text.splitlines(), 1):
            words = line.split("#", 1)[0].split()
            if not words:
                continue
            if len(words) != 3:
                raise TokenFileError(f"{source}:{number}: expected NAME ROLE[,ROLE] TOKEN, found {len(words)} word(s)")
            name, roles, token = words
            unknown = set(roles.split(",")) - set(ROLES)
            if unknown:
                raise TokenFileError(f"{source}:{number}: unknown role {', '.join(sorted(unknown))} (roles: {', '.join(ROLES)})")
            if len(token) < 16:
                raise TokenFileError(f"{source}:{number}: the token of {name} is shorter than 16 characters")
            if token_digest(token) in callers:
                raise TokenFileError(f"{source}:{number}: the token of {name} is given twice")
            callers[token_digest(token)] = Caller(name, frozenset(roles.split(",")))
        return cls(callers)


def load_tokens(path: str | None) -> Tokens | None:
    """The tokens from `path`, else from the environment variable, else None (no tokens:
    the service listens on loopback only)."""
    if path is not None:
        try:
            return Tokens.parse(Path(path).read_text(encoding="utf-8"), path)
        except (OSError, UnicodeDecodeError) as error:
            raise TokenFileError(f"cannot read {path}: {getattr(error, 'strerror', None) or error}") from None
    text = os.environ.get(ENVIRONMENT_VARIABLE)
    return Tokens.parse(text, ENVIRONMENT_VARIABLE) if text and text.strip() else None


def bearer(authorization: str | None) -> str | None:
    """The token of an `Authorization: Bearer TOKEN` header."""
    if authorization is None:
        return None
    scheme, _, token = authorization.strip().partition(" ")
    return token.strip() or None if scheme.lower() == "bearer" else None


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()
