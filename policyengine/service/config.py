"""How a service runs: what `policyengine serve` was given, passed to each worker process
as JSON in an environment variable (uvicorn starts workers by importing the app factory)."""
from __future__ import annotations

import ipaddress
import json
import os
import secrets
from dataclasses import asdict, dataclass, field

from ..limits import MAX_FACTS_BYTES

CONFIG_VARIABLE = "POLICYENGINE_SERVICE_CONFIG"


@dataclass(frozen=True)
class ServiceConfig:
    """`packs`: bundled ids or pack directories served by id (besides the bundled packs,
    which always serve; a directory whose pack has a bundled id takes its place for
    `?pack=ID`). `log`: the decision log (an SQLite file or a postgresql:// URL), or None
    for no log; `log_key_file` its chain's key (None: $POLICYENGINE_LOG_KEY, or unkeyed).
    `max_body_bytes` bounds a decision or verify request, `max_batch_bytes` a batch;
    `time_limit` is the seconds a request may take, reading its body included;
    `ssl_certfile` and `ssl_keyfile` make it HTTPS; `metrics_need_token`: /metrics asks
    for a token (of either role) when tokens are configured; `access_log`: a JSON line per
    request on stderr."""

    host: str = "127.0.0.1"
    port: int = 8080
    workers: int = 1
    packs: tuple[str, ...] = ()
    log: str | None = None
    log_key_file: str | None = None
    tokens_file: str | None = None
    max_body_bytes: int = 8 * MAX_FACTS_BYTES
    max_batch_bytes: int = 256 * MAX_FACTS_BYTES
    time_limit: float = 10.0
    ssl_certfile: str | None = None
    ssl_keyfile: str | None = None
    metrics_need_token: bool = False
    access_log: bool = True
    #: the key (hex) console sessions are signed with, the same in every worker (they read
    #: this config): from `--console-key-file`, else made with the config (sessions end when
    #: the service restarts)
    session_key: str = field(default_factory=lambda: secrets.token_hex(32))
    supervised: bool = field(default=False)

    def to_environment(self) -> None:
        os.environ[CONFIG_VARIABLE] = json.dumps(asdict(self))

    @classmethod
    def from_environment(cls) -> ServiceConfig:
        data = json.loads(os.environ.get(CONFIG_VARIABLE, "{}"))
        data["packs"] = tuple(data.get("packs", ()))
        return cls(**data)


def is_loopback(host: str) -> bool:
    """Whether `host` is an address of this machine only (127.0.0.0/8, ::1, localhost)."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
