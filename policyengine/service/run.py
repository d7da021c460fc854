"""Running the service on uvicorn: one process, or a supervisor and worker processes.

With `--workers N` uvicorn's supervisor starts N processes on one socket. Its own answer
to SIGHUP is to replace each worker; here SIGHUP is passed on to every worker instead,
which compiles its packs again in place (`app.reload_packs`): no worker restarts, requests
in flight finish on the packs they started with, and a pack that fails to compile leaves
the old ones serving and shows in each worker's /readyz.
"""
from __future__ import annotations

import os
import signal
import socket
import tempfile

import uvicorn
from uvicorn.supervisors import Multiprocess
from uvicorn.supervisors.multiprocess import Process

from .config import ServiceConfig
from .metrics import FOLDER_VARIABLE

APP_FACTORY = "policyengine.service.app:app_from_environment"


class ReloadingSupervisor(Multiprocess):
    """uvicorn's supervisor, with SIGHUP passed on to each worker once it serves. A worker
    still starting has no handler yet (SIGHUP would end it) and may have compiled the packs
    before they changed, so it is signalled as soon as it is ready."""

    def __init__(self, config: uvicorn.Config, sockets: list[socket.socket]) -> None:
        super().__init__(config, sockets)
        self._to_reload: list[Process] = []

    def handle_hup(self) -> None:
        self._to_reload = list(self.processes)
        self._pass_reloads_on()

    def keep_subprocess_alive(self) -> None:
        super().keep_subprocess_alive()
        self._pass_reloads_on()

    def _pass_reloads_on(self) -> None:
        waiting = []
        for process in self._to_reload:
            if process not in self.processes or process.pid is None:
                continue  # replaced since: the new worker compiled the packs as they are now
            if process.is_ready(timeout=1):
                os.kill(process.pid, signal.SIGHUP)
            else:
                waiting.append(process)
        self._to_reload = waiting


def serve(config: ServiceConfig) -> None:
    """Serve until SIGINT or SIGTERM (then requests in flight finish). Several workers count
    their metrics in one folder made for this run (`metrics.FOLDER_VARIABLE`), so that a
    scrape of any of them gives the service's totals."""
    config = ServiceConfig(**{**config.__dict__, "supervised": config.workers > 1})
    config.to_environment()
    if config.workers == 1:
        _run(config)
        return
    with tempfile.TemporaryDirectory(prefix="policyengine-metrics-") as folder:
        os.environ[FOLDER_VARIABLE] = folder
        try:
            _run(config)
        finally:
            del os.environ[FOLDER_VARIABLE]


def _run(config: ServiceConfig) -> None:
    server_config = uvicorn.Config(APP_FACTORY, factory=True, host=config.host, port=config.port, workers=config.workers,
                                   access_log=False, timeout_graceful_shutdown=int(config.time_limit) + 5,
                                   ssl_certfile=config.ssl_certfile, ssl_keyfile=config.ssl_keyfile)
    if config.workers > 1:
        ReloadingSupervisor(server_config, sockets=[server_config.bind_socket()]).run()
    else:
        uvicorn.Server(server_config).run()
