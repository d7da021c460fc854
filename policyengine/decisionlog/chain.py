"""The hash chain that makes the decision log tamper-evident.

Each row carries `seq` (1, 2, 3, ... with no gaps), `prev_hash` (the previous row's
`row_hash`; 64 zeros for the first) and `row_hash`, a hash over its `seq`, its
`prev_hash` and a digest of every other column. Certificate Transparency and git keep
their history the same way: change one byte of one row, drop a row or swap two, and the
chain no longer links. With a key the hash is an HMAC, so whoever can write the file but
does not hold the key cannot forge a row that verifies; without one, the chain catches
every edit made without recomputing the hashes after it.

`digests` stores a short digest (16 hex digits) of each column as written, in `DIGESTED`
order, so verify can name the column an edit touched; the row hash itself is computed
from the full digests of the values, so editing `digests` is caught as an edit too.
"""
from __future__ import annotations

import hashlib
import hmac
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

#: the columns a row's digests cover, in the order `digests` keeps them
DIGESTED = ("seq", "kind", "id", "time", "caller", "patient_id", "month", "practitioner", "lines", "pack_id",
            "pack_version", "pack_sha256", "pack_ref", "facts_sha256", "decision_sha256", "trace", "compact",
            "idempotency_key", "request_sha256", "facts", "decision")
#: the chain's own columns, beside the digested ones
CHAIN_COLUMNS = ("prev_hash", "row_hash", "digests")
GENESIS = "0" * 64
SHORT = 16  # hex digits kept per column in `digests`
KEY_VARIABLE = "POLICYENGINE_LOG_KEY"
MIN_KEY_BYTES = 16
_PURPOSE = b"policyengine decision log v2\n"


class KeyError_(ValueError):
    """A chain key that cannot be used (too short, unreadable)."""


@dataclass(frozen=True)
class ChainKey:
    """The HMAC key of a keyed chain. `id` names the key without revealing it (an HMAC of a
    fixed text), so a log can say which key it was written with."""

    secret: bytes

    @property
    def id(self) -> str:
        return hmac.new(self.secret, b"policyengine log key id", hashlib.sha256).hexdigest()[:16]

    @classmethod
    def from_file(cls, path: str | Path) -> ChainKey:
        try:
            secret = Path(path).read_bytes().strip()
        except OSError as error:
            raise KeyError_(f"cannot read the log key file {path}: {error.strerror}") from None
        return cls._checked(secret, f"the log key file {path}")

    @classmethod
    def from_environment(cls, variable: str = KEY_VARIABLE) -> ChainKey | None:
        value = os.environ.get(variable)
        return None if not value else cls._checked(value.strip().encode("utf-8"), f"${variable}")

    @classmethod
    def _checked(cls, secret: bytes, where: str) -> ChainKey:
        if len(secret) < MIN_KEY_BYTES:
            raise KeyError_(f"{where} holds {len(secret)} bytes; a log key needs at least {MIN_KEY_BYTES}")
        return cls(secret)


def find_key(key_file: str | None) -> ChainKey | None:
    """The key given by a file, else by $POLICYENGINE_LOG_KEY, else None (an unkeyed chain)."""
    return ChainKey.from_file(key_file) if key_file else ChainKey.from_environment()


def chain_name(key: ChainKey | None) -> str:
    """What a log records of how its chain is hashed: `sha256`, or `hmac-sha256:KEYID`."""
    return "sha256" if key is None else f"hmac-sha256:{key.id}"


def encode(value: object) -> bytes:
    """A column value as the digest reads it: typed, so 1, "1" and NULL differ."""
    if value is None:
        return b"n:"
    if isinstance(value, bool | int):
        return b"i:%d" % value
    if isinstance(value, str):
        return b"s:" + value.encode("utf-8", "surrogatepass")
    if isinstance(value, bytes | bytearray | memoryview):
        return b"b:" + bytes(value)
    raise TypeError(f"a log column holds {type(value).__name__}")


def digest(column: str, value: object) -> bytes:
    return hashlib.sha256(column.encode("ascii") + b"\0" + encode(value)).digest()


_TEXT_PREFIXES = tuple(column.encode("ascii") + b"\0s:" for column in DIGESTED)


def digests_of(values: Sequence[object]) -> list[bytes]:
    """The full digest of each digested column of a row, given its values in `DIGESTED`
    order: `digest` of each, with text (the common case) encoded inline, since this runs
    for every row appended."""
    sha256 = hashlib.sha256
    return [sha256(prefix + value.encode("utf-8", "surrogatepass")).digest() if value.__class__ is str
            else digest(column, value)
            for column, prefix, value in zip(DIGESTED, _TEXT_PREFIXES, values)]


def short_digests(full: Sequence[bytes]) -> str:
    return "".join([d[:SHORT // 2].hex() for d in full])


def row_hash(key: ChainKey | None, seq: int, prev_hash: str, full: Sequence[bytes]) -> str:
    """The hash a row carries: over its place, its predecessor and every column's digest."""
    payload = b"".join((_PURPOSE, b"%d\n" % seq, prev_hash.encode("ascii"), b"\n", *full))
    if key is None:
        return hashlib.sha256(payload).hexdigest()
    return hmac.new(key.secret, payload, hashlib.sha256).hexdigest()


def changed_columns(stored_digests: object, full: Sequence[bytes]) -> list[str] | None:
    """The columns whose value no longer has the digest written with the row, or None when
    `digests` itself is not what the chain writes (so it cannot tell)."""
    if not isinstance(stored_digests, str) or len(stored_digests) != SHORT * len(DIGESTED):
        return None
    return [column for index, (column, d) in enumerate(zip(DIGESTED, full))
            if stored_digests[index * SHORT:(index + 1) * SHORT] != d.hex()[:SHORT]]
