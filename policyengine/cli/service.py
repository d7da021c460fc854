"""The decision service: `serve` (decisions over HTTP, each logged when a log is given)."""
from __future__ import annotations

from dataclasses import replace
from typing import Any

import click

from ..diagnostics import DiagnosticError
from ..packs import PackNotFound
from ..wording import counted
from .common import EXIT_BAD_INPUT, EXIT_FAILURES, exit_with
from .settings import config_option, setting


@click.command()
@config_option
@setting("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@setting("--port", type=click.IntRange(0, 65535), default=8080, show_default=True)
@setting("--workers", type=click.IntRange(min=1), default=1, show_default=True,
              help="Worker processes on one socket; each compiles the packs once.")
@setting("--pack", "pack_refs", multiple=True, metavar="PACK",
              help="A pack directory (or bundled id) to serve besides the bundled packs, as ?pack=ID; one whose id is "
                   "a bundled pack's takes its place. Repeatable.")
@setting("--log", "log_path", metavar="LOG",
              help="Append every decision to this decision log: an SQLite file, or a postgresql:// URL (several "
                   "instances may share one).")
@setting("--log-key-file", metavar="FILE",
              help="HMAC key for the log's hash chain (default: $POLICYENGINE_LOG_KEY; with neither, an unkeyed chain).")
@setting("--tokens", "tokens_path", metavar="FILE",
              help="Bearer tokens, one a line: NAME ROLE[,ROLE] TOKEN (roles decide, audit). Default: the variable "
                   "POLICYENGINE_SERVICE_TOKENS; with neither, no token is asked and only loopback is served.")
@setting("--max-body-bytes", type=click.IntRange(min=1), default=None, help="Largest decision or verify body.")
@setting("--max-batch-bytes", type=click.IntRange(min=1), default=None, help="Largest batch body.")
@setting("--time-limit", type=click.FloatRange(min=0.001), default=None,
              help="Seconds a request may take, reading its body included (default 10).")
@setting("--ssl-certfile", type=click.Path(exists=True, dir_okay=False), default=None,
              help="Serve HTTPS with this certificate (PEM; its chain after it). Needs --ssl-keyfile.")
@setting("--ssl-keyfile", type=click.Path(exists=True, dir_okay=False), default=None,
              help="The certificate's private key (PEM, unencrypted).")
@setting("--metrics-need-token", is_flag=True, default=False,
         help="GET /metrics asks for a token (either role) when tokens are configured; without it, /metrics is open "
              "like the health checks.")
@setting("--console-key-file", metavar="FILE",
         help="The key the console's sessions are signed with (at least 32 bytes). Give every instance behind one "
              "balancer the same file and a session made by one is good on all; without it, a key is made for each "
              "run and sessions end when the service restarts.")
@setting("--access-log/--no-access-log", default=True, show_default=True,
         help="A JSON line on stderr for each request: time, method, route, status, ms, caller, decision and trace ids.")
def serve(host: str, port: int, workers: int, pack_refs: tuple[str, ...], log_path: str | None,
          log_key_file: str | None, tokens_path: str | None, max_body_bytes: int | None, max_batch_bytes: int | None,
          time_limit: float | None, ssl_certfile: str | None, ssl_keyfile: str | None, metrics_need_token: bool,
          console_key_file: str | None, access_log: bool) -> None:
    """Serve decisions over HTTP (the /v1 API; GET /openapi.json describes it) until Ctrl-C.

    The packs are compiled once at start; SIGHUP (or POST /v1/packs:reload) compiles them
    again, and a pack that then fails leaves the ones before it serving."""
    try:
        from ..service.auth import TokenFileError, load_tokens
        from ..service.config import ServiceConfig, is_loopback
        from ..service.console.sessions import ConsoleKeyError, key_from_file
        from ..service.packs import compile_packs
        from ..service.run import serve as run_service
    except ImportError as error:  # the core install: the service is an extra
        raise click.UsageError(f"serve needs the service extra ({error.name} is not installed): "
                               "pip install 'rpm-policyengine[service]'") from None
    try:
        tokens = load_tokens(tokens_path)
    except TokenFileError as error:
        raise click.UsageError(str(error)) from None
    if tokens is None and not is_loopback(host):
        raise click.UsageError(f"no tokens configured, so the service listens on loopback only, not {host}: give "
                               "--tokens FILE or POLICYENGINE_SERVICE_TOKENS to listen there")
    _check_tls(ssl_certfile, ssl_keyfile)
    try:
        console_key = key_from_file(console_key_file) if console_key_file else None
    except ConsoleKeyError as error:
        raise click.UsageError(str(error)) from None
    try:
        packs = compile_packs(pack_refs, 1)
    except PackNotFound as error:
        exit_with(error, EXIT_BAD_INPUT)
    except DiagnosticError as error:
        exit_with(error, EXIT_FAILURES)
    if log_path is not None:
        _open_log(log_path, log_key_file).close()  # created (or migrated), and writable, before any worker starts
    given = {"max_body_bytes": max_body_bytes, "max_batch_bytes": max_batch_bytes, "time_limit": time_limit}
    limits: dict[str, Any] = {name: value for name, value in given.items() if value is not None}
    config = ServiceConfig(host=host, port=port, workers=workers, packs=pack_refs, log=log_path, log_key_file=log_key_file,
                           tokens_file=tokens_path, ssl_certfile=ssl_certfile, ssl_keyfile=ssl_keyfile,
                           metrics_need_token=metrics_need_token, access_log=access_log, **limits)
    if console_key is not None:  # else the config's own key, made for this run
        config = replace(config, session_key=console_key)
    served = ", ".join(f"{p.pack.id} {p.pack.version}" for p in packs.by_id.values())
    scheme = "https" if ssl_certfile else "http"
    click.echo(f"serving {served} on {scheme}://{host}:{port} ({counted(workers, 'worker')}); decision log: "
               f"{log_path or 'off'}", err=True)
    if tokens is None:
        click.echo("no tokens configured: every local caller may decide and audit; listening on loopback only", err=True)
    else:
        click.echo(f"{len(tokens)} token(s) configured", err=True)
    run_service(config)


def _check_tls(certfile: str | None, keyfile: str | None) -> None:
    """Both files or neither, and a pair that loads: a certificate problem is said here, in
    one line, not as a traceback from each worker."""
    if certfile is None and keyfile is None:
        return
    if certfile is None or keyfile is None:
        raise click.UsageError("HTTPS needs both --ssl-certfile and --ssl-keyfile")
    import ssl
    try:
        ssl.create_default_context(ssl.Purpose.CLIENT_AUTH).load_cert_chain(certfile, keyfile)
    except (ssl.SSLError, OSError) as error:
        raise click.UsageError(f"cannot serve HTTPS with {certfile} and {keyfile}: "
                               f"{getattr(error, 'reason', None) or error}") from None


def _open_log(location: str, key_file: str | None) -> Any:
    from ..decisionlog import KeyError_, LogError, find_key, open_store
    try:
        return open_store(location, find_key(key_file))
    except (LogError, KeyError_) as error:
        raise click.UsageError(f"cannot use the decision log: {error}") from None
    except Exception as error:  # the database's own errors (a read-only folder, a server refusing)
        raise click.UsageError(f"cannot open the decision log {location}: {error}") from None
