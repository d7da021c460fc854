"""The console's pages: signing in and out, searching the decision log, one decision (the
answer, the record, replay, the explanation) and the stylesheet. Every page but signing in
needs a session of a token with the audit role (`sessions.py`); a decide-role token is
refused at sign-in and no page is served to it. The log's rows are checked against the
hash chain before they are shown, as the API's (`audit.checked`).
"""
from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, urlencode

from markupsafe import Markup
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from ...decisionlog import LoggedDecision, Query
from ...decisionlog.replay import Replayed, replay_one
from ...decisionlog.store import parse_cursor
from ...explain.html import render_html_body
from ...schemacheck import bundled_schema
from ..audit import SEARCH_FILTERS, checked, explanation_of, log_store, logged_row
from ..auth import Caller, token_digest
from ..endpoint import CALLER_KEY, read_body
from ..problems import Problem
from . import sessions
from .practice import MAX_ROWS, Practice, chart_svg, practice_of, reason_rows
from .rendering import page, stylesheet

if TYPE_CHECKING:
    from ..app import Service



@functools.cache
def statuses() -> tuple[str, ...]:
    """The statuses a line of a decision can have, as the search offers them: billable, then
    the decision schema's statuses of a line not billable."""
    schema = bundled_schema("decision.schema.json")
    return ("billable", *schema["properties"]["not_billable"]["items"]["properties"]["status"]["enum"])

#: decisions a page of search results shows
PAGE_SIZE = 50
#: what a form may send at most (a token, a form token)
MAX_FORM_BYTES = 4096


@dataclass(frozen=True)
class Console:
    """What the console's pages share: the service, the key its sessions are signed with,
    and whether it is served over HTTPS (its cookies are then Secure)."""

    service: Service
    key: bytes
    secure: bool

    def session(self, request: Request) -> tuple[sessions.Session, Caller]:
        """The request's session and who holds it; Problem 401 (sign in) or 403 (not audit)."""
        session = sessions.opened(request.cookies.get(sessions.COOKIE), self.key)
        tokens = self.service.tokens
        caller = tokens.caller_of_digest(session.token_digest) if session is not None and tokens is not None else None
        if session is None or caller is None:
            raise Problem.of(401, "console.signed_out", "sign in with an audit token to see this page")
        if "audit" not in caller.roles:
            raise Problem.of(403, "console.forbidden", f"{caller.name} has no audit role: the console is for auditors")
        request.scope[CALLER_KEY] = caller  # the access log names who is signed in
        return session, caller

    def signed_in(self, template: str, session: sessions.Session, caller: Caller, **values: Any) -> Response:
        return page(template, session_caller=caller.name, form_token=session.form_token, **values)


async def form(request: Request) -> dict[str, str]:
    """A posted form's fields (urlencoded, each given once); Problem 400 otherwise, 413 past
    MAX_FORM_BYTES (refused as it is read)."""
    if not request.headers.get("content-type", "").startswith("application/x-www-form-urlencoded"):
        raise Problem.of(400, "console.bad_form", "a console form is a small urlencoded form")
    body = await read_body(request, MAX_FORM_BYTES)
    try:
        pairs = parse_qsl(body.decode("ascii"), keep_blank_values=True, strict_parsing=bool(body), errors="strict")
    except (UnicodeDecodeError, ValueError):
        raise Problem.of(400, "console.bad_form", "a console form is a small urlencoded form") from None
    fields = dict(pairs)
    if len(fields) != len(pairs):
        raise Problem.of(400, "console.bad_form", "a field of the form is given twice")
    return fields


def sign_in_page(console: Console, message: str | None = None, status: int = 200) -> Response:
    token = sessions.sign_in_token(console.key)
    return page("sign_in.html", status, {"Set-Cookie": sessions.cookie_header(
        sessions.SIGN_IN_COOKIE, token, sessions.SIGN_IN_LIFETIME, console.secure)},
        sign_in_token=token, message=message)


async def get_sign_in(console: Console, request: Request) -> Response:
    return sign_in_page(console)


async def post_sign_in(console: Console, request: Request) -> Response:
    """Sign in with an audit token: a session cookie, then the search page. A decide-role
    token, a token the service does not know, or a form not made for this sign-in is refused."""
    fields = await form(request)
    if not sessions.sign_in_token_valid(request.cookies.get(sessions.SIGN_IN_COOKIE), fields.get("sign_in_token"),
                                        console.key):
        return sign_in_page(console, "This sign-in form has expired or was not sent by this console: sign in again.", 400)
    token = fields.get("token", "").strip()
    tokens = console.service.tokens
    caller = tokens.caller(token) if token and tokens is not None else None
    if caller is None:
        return sign_in_page(console, "That token is not one of this service's tokens.", 401)
    if "audit" not in caller.roles:
        return sign_in_page(console, f"{caller.name}'s token is for billing systems (decide); the console is for "
                                     "tokens with the audit role.", 403)
    session = sessions.new_session(token_digest(token))
    response = RedirectResponse("/console/search", 303)
    response.headers.append("Set-Cookie", sessions.cookie_header(sessions.COOKIE, sessions.seal(session, console.key),
                                                                 sessions.LIFETIME, console.secure))
    response.headers.append("Set-Cookie", sessions.cookie_header(sessions.SIGN_IN_COOKIE, "", 0, console.secure))
    return response


async def post_sign_out(console: Console, request: Request) -> Response:
    session, _ = console.session(request)
    if not sessions.form_token_matches(session, (await form(request)).get("form_token")):
        raise Problem.of(403, "console.bad_form_token", "this form was not sent from your console session")
    response = RedirectResponse("/console/sign-in", 303)
    response.headers.append("Set-Cookie", sessions.cookie_header(sessions.COOKIE, "", 0, console.secure))
    return response


async def get_home(console: Console, request: Request) -> Response:
    return RedirectResponse("/console/search", 303)


def _query(request: Request) -> tuple[Query, dict[str, str]]:
    """The search's filters from the form (empty fields left out) and the page's cursor."""
    params = request.query_params
    filters = {name: params.get(name, "").strip() for name in ("patient", "month", "practitioner", "code", "status")}
    before = params.get("before", "")
    try:
        before_seq = parse_cursor(before) if before else None
    except ValueError as error:
        raise Problem.of(400, "console.bad_parameter", str(error), where="?before") from None
    chosen = {SEARCH_FILTERS[name]: value for name, value in filters.items() if value}
    return Query(**chosen, limit=PAGE_SIZE, before_seq=before_seq), filters


def _listed(row: LoggedDecision) -> dict[str, Any]:
    decision = json.loads(row.decision)
    return {"id": row.id, "time": row.time, "patient_id": row.patient_id, "month": row.month,
            "practitioner": row.practitioner, "total": decision.get("total"),
            "billed": [f"{line['code']} x{line['units']}" for line in decision.get("billable", ())]}


async def get_search(console: Console, request: Request) -> Response:
    session, caller = console.session(request)
    query, filters = _query(request)
    store = log_store(console.service)

    def found() -> tuple[list[dict[str, Any]], str | None, int]:
        result = store.list(query)
        return [_listed(checked(console.service, row)) for row in result.rows], result.next_cursor, store.count(query)

    rows, cursor, matching = await console.service.run(found)
    total = sum((_money(row["total"]) for row in rows), Decimal("0"))
    next_href = "/console/search?" + urlencode({**{k: v for k, v in filters.items() if v}, "before": cursor}) if cursor else None
    return console.signed_in("search.html", session, caller, filters=filters, statuses=statuses(), rows=rows, matching=matching,
                             page_total=f"{total:.2f}", next_href=next_href)


def _money(text: str | None) -> Decimal:
    return Decimal(text) if text else Decimal("0")


def _decision_page(console: Console, session: sessions.Session, caller: Caller, row: LoggedDecision,
                   replayed: dict | None) -> Response:
    decision = json.loads(row.decision)
    explanation = Markup(render_html_body(explanation_of(console.service, decision)))
    running = f"{row.patient_id} · {row.month} · decision {row.id}"
    return console.signed_in("decision.html", session, caller, row=row, decision=decision, explanation=explanation,
                             running_header=running, replayed=replayed)


async def get_decision(console: Console, request: Request) -> Response:
    session, caller = console.session(request)

    def shown() -> Response:
        row = checked(console.service, logged_row(console.service, request.path_params["id"]))
        return _decision_page(console, session, caller, row, None)

    return await console.service.run(shown)


def _outcome(result: Replayed) -> dict[str, Any]:
    """What the decision page says of a replay: reproduced, or differs with why and where."""
    if result.reproduced:
        return {"outcome": "reproduced", "headline": "Reproduced: deciding it again gives the same bytes.", "lines": []}
    lines = [f"cannot decide again: {result.error}"] if result.error else []
    lines += [f"{cause['cause']}: {cause['message']}" for cause in result.causes]
    lines += [f"differs at {pointer}" for pointer in result.differences]
    return {"outcome": "differs", "headline": "Differs: deciding it again does not give the same bytes.", "lines": lines}


async def post_replay(console: Console, request: Request) -> Response:
    """Decide the logged decision again from its logged facts and pack: reproduced, differs
    (with the differences and their causes), or the log is damaged there (not decided again)."""
    session, caller = console.session(request)
    if not sessions.form_token_matches(session, (await form(request)).get("form_token")):
        raise Problem.of(403, "console.bad_form_token", "this form was not sent from your console session")

    def replayed() -> Response:  # a row the chain does not vouch for is a log.damaged problem, not decided again
        row = checked(console.service, logged_row(console.service, request.path_params["id"]))
        return _decision_page(console, session, caller, row, _outcome(replay_one(row)))

    return await console.service.run(replayed)


async def get_practice(console: Console, request: Request) -> Response:
    """Money billed by month and code, money held back by documentation, and the most
    frequent reasons codes were not billable (`practice.py`)."""
    session, caller = console.session(request)
    store = log_store(console.service)

    def figures() -> Practice:
        page_of = store.list(Query(limit=MAX_ROWS))
        return practice_of((checked(console.service, row) for row in page_of.rows), more=page_of.next_cursor is not None)

    practice = await console.service.run(figures)
    return console.signed_in("practice.html", session, caller, practice=practice, chart=Markup(chart_svg(practice)),
                             reasons=reason_rows(practice), max_rows=MAX_ROWS)


async def get_stylesheet(console: Console, request: Request) -> Response:
    return Response(stylesheet(), media_type="text/css; charset=utf-8",
                    headers={"Cache-Control": "max-age=3600", "X-Content-Type-Options": "nosniff"})
