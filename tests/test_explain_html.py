"""The HTML explanation as an auditor reads it and another page embeds it: ledger rows and
counted days that link to the source rows of the facts they show (by an id any pointer
can have), a derivation closed until asked for (and printed as it is on the screen), a
body and a stylesheet for the console, the page around them, every value escaped."""
from __future__ import annotations

import json
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from click.testing import CliRunner

import policyengine
from policyengine.cli import main
from policyengine.explain import explain, render
from policyengine.explain.html import STYLE, render_html, render_html_body, render_index, source_id
from test_explain_sources import facts

FHIR = Path(__file__).resolve().parent.parent / "examples" / "fhir"
SEED = Path(__file__).resolve().parent.parent / "examples" / "2026-03-seed-22-minutes.json"


class Anchors(HTMLParser):
    """The ids of a page (each with the text of its element), and its links within the page
    (each with its text)."""

    def __init__(self, page: str) -> None:
        super().__init__()
        self.ids: dict[str, str] = {}
        self.links: list[tuple[str, str]] = []
        self._open: list[tuple[str, str, list[str]]] = []  # (tag, id or "#href", text)
        self.feed(page)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("td", "br"):
            self.handle_data(" ")
        found = dict(attrs)
        if found.get("id"):
            assert found["id"] not in self.ids, f"id {found['id']} twice"
            self.ids[str(found["id"])] = ""
            self._open.append((tag, str(found["id"]), []))
        elif tag == "a" and str(found.get("href", "")).startswith("#"):
            self._open.append((tag, str(found["href"]), []))

    def handle_data(self, data: str) -> None:
        for _, _, text in self._open:
            text.append(data)

    def handle_endtag(self, tag: str) -> None:
        if self._open and self._open[-1][0] == tag:
            _, name, text = self._open.pop()
            if name.startswith("#"):
                self.links.append((name[1:], "".join(text)))
            else:
                self.ids[name] = " ".join("".join(text).split())


@pytest.fixture(scope="module")
def fhir_decision(tmp_path_factory) -> dict:
    """The month of the FHIR example with 16 reading days and a call, decided with the full trace."""
    out = tmp_path_factory.mktemp("fhir") / "decisions.jsonl"
    result = CliRunner().invoke(main, ["timeline", "decide", str(FHIR / "16-reading-days.json"), "--from", "2026-03",
                                       "--to", "2026-03", "--trace", "full", "--out", str(out)])
    assert result.exit_code == 0, result.output
    (decision,) = [json.loads(line) for line in out.read_text().splitlines()]
    return decision


def seed_explanation():
    return explain(policyengine.evaluate(json.loads(SEED.read_text()), trace="full"))


def test_a_ledger_row_and_a_counted_day_link_to_their_source_rows(fhir_decision):
    page = Anchors(render_html_body(explain(fhir_decision)))
    links = dict(page.links)
    assert links["src-interactions-0"] == "/interactions/0"  # the time ledger's row, by its pointer
    assert "Encounter/call-2026-03-12" in page.ids["src-interactions-0"]
    assert "time ledger countable_time" in page.ids["src-interactions-0"]
    assert links["src-transmission_days-5"] == "2026-03-07"  # a day counted
    assert page.ids["src-transmission_days-5"].startswith("2026-03-07 /transmission_days/5 Observation/bp-2026-03-07")
    assert "days counted supply_days" in page.ids["src-transmission_days-5"]
    assert len(page.links) == 17 and {target for target, _ in page.links} <= set(page.ids)  # 16 days and the call


def test_no_provenance_no_links_and_no_source_ids():
    made = facts(provenance=None)
    page = render_html(explain(policyengine.evaluate(made, trace="full")))
    assert Anchors(page).ids == {} and Anchors(page).links == [] and "shown in" not in page


AWKWARD = ["", "/", "//", "/a/b", "/a~1b", "/a-b", "/a.2db", "/a_b", "/a b", "/a\tb", '/a"b', "/a'b", "/<b>&c",
           "/é", "/e\u0301", "/\U0001F600", "/a#b", "/a%2fb", "/A", "/a", "/interactions/3", "/transmission_days/5"]


def unescaped(anchor: str) -> str:
    """The pointer of a source row's id (the inverse of `source_id`)."""
    assert anchor.startswith("src")
    out, rest = bytearray(), anchor[3:]
    while rest:
        if rest[0] == ".":
            out.append(int(rest[1:3], 16))
            rest = rest[3:]
        else:
            out += b"/" if rest[0] == "-" else rest[0].encode()
            rest = rest[1:]
    return out.decode()


def test_source_id_is_safe_and_one_to_one():
    assert source_id("/interactions/3") == "src-interactions-3"
    assert source_id("/transmission_days/5") == "src-transmission_days-5"
    assert source_id("/a-b~1c") == "src-a.2db.7e1c"
    ids = [source_id(pointer) for pointer in AWKWARD]
    assert all(re.fullmatch(r"src[A-Za-z0-9_.-]*", anchor) for anchor in ids), ids
    assert len(set(ids)) == len(AWKWARD)
    assert [unescaped(anchor) for anchor in ids] == AWKWARD


def with_sources(sources: dict[str, list[str]]) -> dict:
    """A decision whose trace names the source records of `sources` too (as an edited
    decision could: the facts themselves refuse a pointer to no value)."""
    decision = policyengine.evaluate(facts(), trace="full")
    decision["trace"]["sources"].update(sources)
    return decision


def test_awkward_pointers_are_source_rows_with_their_own_ids():
    provenance = {pointer: [f"Resource/{i}"] for i, pointer in enumerate(AWKWARD[2:])}
    page = render_html_body(explain(with_sources(provenance)))
    ids = Anchors(page).ids
    assert {source_id(pointer) for pointer in provenance} <= set(ids)
    assert '<tr id="src-.3cb.3e.26c"><td><code>/&lt;b&gt;&amp;c</code></td>' in page


def test_the_derivation_is_closed_in_the_body_unless_asked():
    ex = seed_explanation()
    body = render_html_body(ex)
    assert "<h2>Derivation</h2>\n<details><summary>" in body and "<details open>" not in body
    assert "<h2>Derivation</h2>\n<details open><summary>" in render_html_body(ex, derivation_open=True)
    assert "<details><summary>" in render_html(ex) == render(ex, "html")


def test_the_page_is_the_body_in_a_document_with_the_stylesheet():
    ex = seed_explanation()
    body, page = render_html_body(ex), render_html(ex)
    assert body.startswith('<article class="pe-explanation">\n<h1>') and body.endswith("\n</article>")
    assert not re.search(r"<(html|head|body|style|title)\b", body)
    head, _, after = page.partition(body)
    assert after == "\n</body></html>\n"
    assert head.startswith("<!DOCTYPE html>") and head.endswith(f"<style>{STYLE}</style></head><body>\n")
    assert "<title>PT-104233 2026-03</title>" in head


def test_the_stylesheet_styles_only_the_explanation():
    """Every rule is scoped to the article, so a page that serves the stylesheet beside its
    own keeps its own look; printed, nothing opens a closed <details>."""
    selectors = [s.strip() for rule in re.findall(r"([^{}]+)\{[^{}]*\}", STYLE) for s in rule.split(",")]
    assert len(selectors) > 40 and all(s.startswith(".pe-explanation") for s in selectors), selectors
    assert "details >" not in STYLE and not re.search(r"details[^{}]*\{[^}]*display", STYLE)
    assert "@media print" in STYLE


XSS = '<script>alert("x")</script>'


@pytest.mark.parametrize("trace", ["full", "compact"])
def test_every_value_is_escaped_in_the_page_the_body_and_the_index(trace):
    made = facts({"/interactions/0": [f"Encounter/{XSS}"]})
    made["patient_id"] = XSS
    made["interactions"][0]["id"] = f'IX"><img src=x onerror=alert(1)>{XSS}'
    decision = policyengine.evaluate(made, trace=trace)
    decision["trace"]["sources"][f"/consent{XSS}"] = ["Consent/1"]
    decision["billable"][0]["reason"] = XSS  # an edited decision: a compact trace's card says its reason
    ex = explain(decision)
    for html in (render_html(ex), render_html_body(ex), render_index([(ex, f"{XSS}.html")])):
        assert "<script" not in html and "<img" not in html and "&lt;script&gt;" in html
    page = render_html(ex)
    escaped = XSS.replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")
    assert f"<title>{escaped} 2026-03</title>" in page
    assert f"<b>Why:</b> {escaped}</p>" in page or trace == "full"  # the full trace's card says the pack's reason
    assert Anchors(page).ids[source_id(f"/consent{XSS}")].startswith(f"/consent{XSS}")
