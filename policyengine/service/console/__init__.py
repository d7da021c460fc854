"""The auditor's console: web pages over the decision log under `/console` of
`policyengine serve`, for tokens with the audit role. Server-side templates with every
value escaped, no script, every asset served by the package; see `pages.py` for the
pages and `sessions.py` for signing in.
"""
from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from ..auth import Caller
from ..endpoint import Endpoint, Handler
from ..problems import Problem
from . import pages
from .pages import Console
from .rendering import page

if TYPE_CHECKING:
    from ..app import Service

Page = Callable[[Console, Request], Awaitable[Response]]

ROUTES: tuple[tuple[str, str, Page], ...] = (
    ("/console", "GET", pages.get_home),
    ("/console/sign-in", "GET", pages.get_sign_in),
    ("/console/sign-in", "POST", pages.post_sign_in),
    ("/console/sign-out", "POST", pages.post_sign_out),
    ("/console/search", "GET", pages.get_search),
    ("/console/decisions/{id}", "GET", pages.get_decision),
    ("/console/decisions/{id}/replay", "POST", pages.post_replay),
    ("/console/practice", "GET", pages.get_practice),
    ("/console/static/console.css", "GET", pages.get_stylesheet),
)

_TITLES = {400: "Not a request the console takes", 401: "Sign in", 403: "Not for this token", 404: "Not found",
           500: "Cannot show this"}
#: a page's title for a problem whose code says more than its status
_TITLES_BY_CODE = {"log.damaged": "Log damaged"}


def console_routes(service: Service, key: bytes, secure: bool) -> list[Route]:
    """The console's routes for one worker process, its sessions signed with `key`: each
    through the service's `Endpoint` (limits, time limit, span, metrics, access log) with
    no bearer token asked (a page checks its session) and a problem answered as a page."""
    console = Console(service, key, secure)
    return [Route(path, Endpoint(service, path, _handler(console, page_of), None, _problem_page).respond,
                  methods=[method]) for path, method, page_of in ROUTES]


def _handler(console: Console, page_of: Page) -> Handler:
    async def handle(service: Service, request: Request, caller: Caller | None) -> Response:
        return await page_of(console, request)
    return handle


def _problem_page(request: Request, problem: Problem) -> Response:
    """A problem as a page of the console; signed out, a page asks to sign in."""
    if problem.status == 401 and request.method == "GET":
        return RedirectResponse("/console/sign-in", 303)
    first = problem.diagnostics[0]
    title = _TITLES_BY_CODE.get(first.code) or _TITLES.get(problem.status, "Cannot do this")
    return page("problem.html", problem.status, title=title, message=first.message,
                code=first.code, http_status=problem.status, back_href="/console/search",
                back_words="Back to the decisions")
