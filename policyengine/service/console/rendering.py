"""The console's pages from Jinja2 templates (`templates/`), every value escaped by the
template engine; its one stylesheet (`static/console.css` with the explanation's styles,
which the decision page embeds); and the values a print stylesheet needs written as CSS
strings, safely."""
from __future__ import annotations

import functools
import re
from importlib import resources
from typing import Any

import jinja2
from markupsafe import Markup
from starlette.responses import HTMLResponse

from ...explain.html import STYLE as EXPLANATION_STYLE


@functools.cache
def _environment() -> jinja2.Environment:
    environment = jinja2.Environment(
        loader=jinja2.PackageLoader("policyengine.service.console", "templates"),
        autoescape=True, undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    environment.filters["css_string"] = css_string
    environment.filters["money"] = lambda value: "unknown" if value is None else f"${value}"
    environment.filters["logged"] = logged
    return environment


def page(template: str, status: int = 200, headers: dict[str, str] | None = None, **values: Any) -> HTMLResponse:
    """A page of the console: its template filled in, as an HTML response that no other
    site may frame and that loads nothing but the console's own assets."""
    html = _environment().get_template(template).render(**values)
    return HTMLResponse(html, status, headers={**SECURITY_HEADERS, **(headers or {})})


#: every page: only the console's own assets and inline styles (the print header), no
#: script at all, never in a frame, no referrer sent elsewhere
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
                               "form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    "X-Content-Type-Options": "nosniff", "Referrer-Policy": "same-origin", "Cache-Control": "no-store",
}


@functools.cache
def stylesheet() -> str:
    """The console's stylesheet: its own rules, then the explanation's."""
    own = resources.files("policyengine.service.console").joinpath("static/console.css").read_text(encoding="utf-8")
    return own + "\n/* the explanation (policyengine.explain.html) */\n" + EXPLANATION_STYLE


def logged(time: str) -> str:
    """A logged time (ISO 8601, UTC) to the second, for a list: `2026-12-07 12:03:06 UTC`."""
    day, _, clock = time.partition("T")
    return f"{day} {clock[:8]} UTC" if clock.endswith("+00:00") and len(clock) >= 8 else time


_CSS_UNSAFE = re.compile(r'[\\"\n\r\f<>&\x00-\x1f\x7f]')


def css_string(value: object) -> Markup:
    """`value` as a quoted CSS string: every character that could end the string, the rule
    or the style element (a patient id is whatever the facts said) written as a CSS escape.
    Safe as it is inside a style element, where HTML escapes would be read literally."""
    return Markup('"' + _CSS_UNSAFE.sub(lambda m: f"\\{ord(m.group()):x} ", str(value)) + '"')
