"""The decision log over HTTP, for the audit role: search (`GET /v1/decisions`), one
decision (`GET /v1/decisions/{id}`) and its explanation. Every row served is checked
against the hash chain first; a damaged row is a 500 problem that names what is wrong
(`log.damaged`), never the damaged bytes presented as the decision."""
from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import Response

from ..decisionlog import DamagedRow, LoggedDecision, Query, check_row
from ..decisionlog.store import parse_cursor, time_bound
from ..explain import FORMATS, Explanation, explain, render
from .auth import Caller
from .endpoint import json_response
from .problems import Problem

if TYPE_CHECKING:
    from .app import Service

EXPLANATION_TYPES = {"text": "text/plain; charset=utf-8", "markdown": "text/markdown; charset=utf-8",
                     "html": "text/html; charset=utf-8"}
SEARCH_FILTERS = {"patient": "patient_id", "month": "month", "practitioner": "practitioner", "code": "code",
                  "status": "status", "pack": "pack_id"}
MAX_PAGE = 500


def log_store(service: Service) -> Any:
    """The service's decision log; Problem 404 when it keeps none."""
    if service.store is None:
        raise Problem.of(404, "service.no_log", "this service keeps no decision log (start it with --log LOG)")
    return service.store


def checked(service: Service, row: LoggedDecision | DamagedRow) -> LoggedDecision:
    """`row`, once the chain vouches for it."""
    findings = check_row(row, service.log_key, service.log_keyed)
    if findings or not isinstance(row, LoggedDecision):
        raise Problem.of(500, "log.damaged", "; ".join(f.render() for f in findings) + ": the decision log is damaged "
                         "here (policyengine log verify)")
    return row


def logged_row(service: Service, decision_id: str) -> LoggedDecision | DamagedRow:
    """The log's row of `decision_id`, not yet checked; Problem 404 when there is none."""
    row = log_store(service).get(decision_id)
    if row is None:
        raise Problem.of(404, "service.unknown_decision", f"no decision '{decision_id}' in the decision log", where="/id")
    return row


def explanation_of(service: Service, decision: dict) -> Explanation:
    """A logged decision explained, with its pack's descriptions when the service still serves that pack."""
    served = service.packs.current.by_id.get(decision["pack"]["id"])
    return explain(decision, served.pack if served else None)


def _logged(service: Service, request: Request) -> LoggedDecision:
    return checked(service, logged_row(service, request.path_params["id"]))


async def get_decision(service: Service, request: Request, caller: Caller | None) -> Response:
    row = await service.run(_logged, service, request)
    return json_response({**row.summary(), "decision": json.loads(row.decision)})


async def get_explanation(service: Service, request: Request, caller: Caller | None) -> Response:
    output_format = request.query_params.get("format", "text")
    if output_format not in FORMATS:
        raise Problem.of(400, "service.bad_parameter", f"format must be one of {', '.join(FORMATS)}", where="?format")
    row = await service.run(_logged, service, request)

    def explained() -> str:
        return render(explanation_of(service, json.loads(row.decision)), output_format)

    return Response(await service.run(explained), 200, media_type=EXPLANATION_TYPES[output_format])


def search_query(request: Request) -> Query:
    """The search's filters from the query string: each at most once, times as dates or ISO
    date-times, `limit` 1 to 500 (default 100), `cursor` as a page before returned it."""
    params = request.query_params
    known = {*SEARCH_FILTERS, "since", "until", "limit", "cursor"}
    for name in params:
        if name not in known:
            raise Problem.of(400, "service.bad_parameter", f"unknown search parameter {name!r}; the filters are "
                             f"{', '.join(sorted(known))}", where=f"?{name}")
        if len(params.getlist(name)) > 1:
            raise Problem.of(400, "service.bad_parameter", f"{name} is given at most once", where=f"?{name}")
    filters: dict[str, Any] = {field: params[name] for name, field in SEARCH_FILTERS.items() if name in params}
    try:
        for name, upper in (("since", False), ("until", True)):
            if name in params:
                filters[name] = time_bound(params[name], upper)
    except ValueError as error:
        raise Problem.of(400, "service.bad_parameter", str(error), where="?since/until") from None
    limit, cursor = params.get("limit", "100"), params.get("cursor")
    if not limit.isdigit() or not 1 <= int(limit) <= MAX_PAGE:
        raise Problem.of(400, "service.bad_parameter", f"limit is a whole number from 1 to {MAX_PAGE}", where="?limit")
    try:
        before_seq = parse_cursor(cursor) if cursor is not None else None
    except ValueError as error:
        raise Problem.of(400, "service.bad_parameter", str(error), where="?cursor") from None
    return Query(**filters, limit=int(limit), before_seq=before_seq)


async def search_decisions(service: Service, request: Request, caller: Caller | None) -> Response:
    query = search_query(request)

    def found() -> dict:
        page = log_store(service).list(query)
        return {"decisions": [checked(service, row).summary() for row in page.rows], "next_cursor": page.next_cursor}

    return json_response(await service.run(found))
