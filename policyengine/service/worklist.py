"""`POST /v1/worklist?as_of=YYYY-MM-DD`: a practice's daily worklist over HTTP. The body is
facts JSON Lines, as a batch's; the answer is the worklist library's sheet
(`worklist_of_lines(...).as_json()`) as one JSON document: practice and practitioner
totals, each patient's earned codes, tasks with the dollars at stake, what is out of
reach, and the records that could not be decided (under `problems`, with their line and
errors: a bad record is not a bad request).

`?pack=ID` names a served pack: the worklist is decided with the pack the service serves.

A worklist decides as of a date to plan the month's work, not to bill it: nothing of it
is written to the decision log.
"""
from __future__ import annotations

import io
import threading
from typing import TYPE_CHECKING

from starlette.requests import Request
from starlette.responses import Response

from ..batch import check_arguments
from ..engine.values import pretty_json
from ..facts.dates import iso_day
from ..packs import CompiledPack
from ..worklist import worklist_of_lines
from .auth import Caller
from .endpoint import JSON_TYPE, read_body
from .problems import Problem
from .work import Settings

if TYPE_CHECKING:
    from .app import Service

class Abandoned(Exception):
    """The request went past its time limit (it was answered 408): the work stops."""


def as_of_date(request: Request) -> str:
    """The required `as_of` query parameter: one calendar date, written YYYY-MM-DD."""
    given = request.query_params.getlist("as_of")
    if not given:
        raise Problem.of(400, "service.bad_parameter", "as_of is required: the date the worklist is decided as of "
                         "(YYYY-MM-DD)", where="?as_of")
    if len(given) > 1:
        raise Problem.of(400, "service.bad_parameter", "as_of is given at most once", where="?as_of")
    day = iso_day(given[0])
    if day is None:
        raise Problem.of(400, "service.bad_parameter", f"as_of must be a date YYYY-MM-DD, not {given[0]!r}",
                         where="?as_of")
    return day


def worklist_text(body: bytes, as_of: str, pack: CompiledPack | None, options: dict[str, str],
                  stop: threading.Event) -> str:
    """The worklist of the body's lines as JSON text; stops between chunks of lines once
    `stop` is set."""

    def progress(size: int) -> None:
        if stop.is_set():
            raise Abandoned

    sheet = worklist_of_lines(io.BytesIO(body), as_of, pack=pack, options=options, progress=progress)
    return pretty_json(sheet.as_json()) + "\n"


async def post_worklist(service: Service, request: Request, caller: Caller | None) -> Response:
    """The worklist of the body's facts JSON Lines as of `?as_of=`, with `?pack=` and
    `?option=` as a batch takes them (the pack and options are refused before the body is
    read). Not written to the decision log: a worklist plans the month's work, it does
    not bill it."""
    as_of = as_of_date(request)
    params = request.query_params
    settings = Settings.from_query(params.getlist("pack"), params.getlist("option"), [], "none")
    served = settings.served(service.packs.current)
    await service.run(check_arguments, served.pack if served else None, settings.options, "none")
    body = await read_body(request, service.config.max_batch_bytes)
    stop = threading.Event()
    try:
        with service.tracing.span("worklist"):
            text = await service.run(worklist_text, body, as_of, served.pack if served else None, settings.options, stop)
    finally:
        stop.set()  # past the time limit the thread would go on deciding a body no one waits for
    return Response(text, 200, None, JSON_TYPE)
