"""The auditor's console over HTTP (issue 28): signing in with an audit token only, a
session cookie that is HttpOnly, SameSite=Strict and ends, forms that another site cannot
post, the search and a decision's page, replay, and every value from the facts escaped.
The same pages in a real browser: tests/test_console_browser.py."""
from __future__ import annotations

import json
import re
import sqlite3
from collections import defaultdict
from decimal import Decimal
from html import unescape
from pathlib import Path

import pytest

from click.testing import CliRunner

from policyengine.cli import main
from policyengine.service.auth import load_tokens
from policyengine.service.config import ServiceConfig
from policyengine.service.console import sessions
from packcopy import copy_chain
from served import client
from test_service_log import change_rate

ROOT = Path(__file__).resolve().parents[1]
SEED = ROOT / "examples" / "2026-03-seed-22-minutes.json"
BILLING, AUDITOR = "billing-token-0123456789", "auditor-token-0123456789"
PROBE = '<script>alert("x")</script>'
#: a probe a pack's reason can hold (YAML's double-quoted string keeps its quotes out)
REASON_PROBE = "<img src=x onerror=alert(1)>"


@pytest.fixture
def served(tmp_path):
    config = ServiceConfig(log=str(tmp_path / "log.sqlite"), tokens_file=tokens_file(tmp_path))
    with client(config, load_tokens(config.tokens_file)) as http:
        http.follow_redirects = False
        yield http, tmp_path / "log.sqlite"


def tokens_file(folder: Path) -> str:
    (folder / "tokens").write_text(f"billing decide {BILLING}\nauditor audit {AUDITOR}\n")
    return str(folder / "tokens")


def decide(http, facts: dict, **params: str) -> str:
    return decided(http, facts, **params).headers["x-decision-id"]


def decided(http, facts: dict, **params: str):
    answer = http.post("/v1/decisions", content=json.dumps(facts), params=params,
                       headers={"Authorization": f"Bearer {BILLING}"})
    assert answer.status_code == 200, answer.text
    return answer


def rows_of(html: str, caption: str) -> list[list[str]]:
    """The body rows of the table with `caption`, each a list of its cells' text."""
    table = html[html.index(f"<caption>{caption}</caption>"):]
    body = table[table.index("<tbody>"):table.index("</tbody>")]
    return [[" ".join(unescape(re.sub(r"<[^>]+>", "", cell)).split()) for cell in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row, re.S)]
            for row in re.findall(r"<tr>(.*?)</tr>", body, re.S)]


def hidden(html: str, name: str) -> str:
    return re.search(rf'name="{name}" value="([^"]+)"', html).group(1)


def sign_in(http, token: str = AUDITOR):
    form = http.get("/console/sign-in")
    assert form.status_code == 200
    return http.post("/console/sign-in", data={"token": token, "sign_in_token": hidden(form.text, "sign_in_token")})


def test_signing_in_gives_a_strict_http_only_session_that_ends(served):
    http, _ = served
    assert http.get("/console/search").headers["location"] == "/console/sign-in"  # signed out: sign in first
    answer = sign_in(http)
    assert (answer.status_code, answer.headers["location"]) == (303, "/console/search")
    cookie = next(c for c in answer.headers.get_list("set-cookie") if c.startswith(f"{sessions.COOKIE}="))
    for attribute in ("HttpOnly", "SameSite=Strict", "Path=/console", f"Max-Age={sessions.LIFETIME}"):
        assert attribute in cookie
    assert AUDITOR not in cookie  # the session holds the token's digest, never the token
    assert http.get("/console/search").status_code == 200
    page = http.get("/console/search").text
    signed_out = http.post("/console/sign-out", data={"form_token": hidden(page, "form_token")})
    assert signed_out.status_code == 303 and "Max-Age=0" in signed_out.headers["set-cookie"]
    http.cookies.clear()
    assert http.get("/console/search").status_code == 303


def test_a_session_is_refused_once_it_has_expired_or_is_forged():
    key = b"k" * 32
    session = sessions.new_session("digest", now=1000.0)
    sealed = sessions.seal(session, key)
    assert sessions.opened(sealed, key, now=1001.0) == session
    assert sessions.opened(sealed, key, now=1000.0 + sessions.LIFETIME + 1) is None
    assert sessions.opened(sealed, b"another key 0123456789012345678", now=1001.0) is None
    body, signature = sealed.rsplit(".", 1)
    assert sessions.opened(body[:-2] + "AA." + signature, key, now=1001.0) is None


def test_a_decide_token_is_refused_and_served_nothing(served):
    http, _ = served
    refused = sign_in(http, BILLING)
    assert refused.status_code == 403 and "billing systems" in refused.text
    assert not any(c.startswith(f"{sessions.COOKIE}=") for c in refused.headers.get_list("set-cookie"))
    assert sign_in(http, "no-such-token-0123456789").status_code == 401
    assert http.get("/console/search").status_code == 303


def test_forms_not_sent_from_the_console_are_refused(served):
    http, _ = served
    stale = http.post("/console/sign-in", data={"token": AUDITOR, "sign_in_token": "made.up.token"})
    assert stale.status_code == 400
    assert not any(c.startswith(f"{sessions.COOKIE}=") for c in stale.headers.get_list("set-cookie"))
    sign_in(http)
    decision_id = decide(http, json.loads(SEED.read_text()))
    forged = http.post(f"/console/decisions/{decision_id}/replay", data={"form_token": "not-the-sessions"})
    assert forged.status_code == 403 and "not sent from your console session" in forged.text
    assert http.post("/console/sign-out", data={"form_token": ""}).status_code == 403


def test_search_lists_the_logged_decisions_with_their_totals(served):
    http, _ = served
    seed = json.loads(SEED.read_text())
    ids = [decide(http, json.loads(path.read_text())) for path in sorted((ROOT / "examples").glob("2026-*.json"))]
    sign_in(http)
    everything = http.get("/console/search").text
    assert all(decision_id in everything for decision_id in ids)
    found = http.get("/console/search", params={"patient": seed["patient_id"], "code": "99457", "status": "billable"})
    assert found.status_code == 200 and seed["patient_id"] in found.text
    assert "1 decision matches; 1 on this page, billing $103.88." in found.text
    assert "0 decisions match; 0 on this page" in http.get("/console/search", params={"patient": "nobody"}).text


def test_search_pages_through_the_log_newest_first(served):
    http, _ = served
    lines = "".join(json.dumps({**json.loads(SEED.read_text()), "patient_id": f"PT-{i:03d}"}) + "\n" for i in range(55))
    batch = http.post("/v1/decisions:batch", content=lines, headers={"Authorization": f"Bearer {BILLING}"})
    assert batch.status_code == 200 and len(batch.text.splitlines()) == 55
    sign_in(http)
    first = http.get("/console/search", params={"code": "99457"}).text
    newest = [row[1] for row in rows_of(first, "Decisions in the log, newest first")]
    assert newest == [f"PT-{i:03d}" for i in range(54, 4, -1)]
    assert "55 decisions match; 50 on this page, billing $5194.00 (older ones on the next page)." in first
    older = http.get(unescape(re.search(r'<a href="([^"]+)" rel="next">', first).group(1))).text
    assert [row[1] for row in rows_of(older, "Decisions in the log, newest first")] == [f"PT-{i:03d}" for i in range(4, -1, -1)]
    assert 'rel="next"' not in older and 'value="99457"' in older  # the filters kept on the next page
    for made_up in ("9" * 30, "-1", "٣"):  # a cursor no page gave: the auditor's mistake, said as such
        refused = http.get("/console/search", params={"before": made_up})
        assert refused.status_code == 400 and "a cursor is the next_cursor" in refused.text
    options = re.findall(r'<option value="(\w+)"', first)
    assert options == ["billable", "not_met", "documentation_missing", "billed_elsewhere", "replaced",
                       "prerequisite_missing", "error"]


def test_a_decisions_page_gives_the_answer_the_record_and_the_explanation(served):
    http, _ = served
    decision_id = decide(http, json.loads(SEED.read_text()))
    sign_in(http)
    page = http.get(f"/console/decisions/{decision_id}")
    assert page.status_code == 200
    text = page.text
    assert text.index("The answer") < text.index("The record") < text.index("Why: the explanation")
    for shown in (decision_id, "billing", "cms-rpm-2026", "PT-104233", "2026-03", "$103.88"):
        assert shown in text
    assert "Content-Security-Policy" in page.headers and "script-src" not in page.headers["Content-Security-Policy"]
    assert "<script" not in text
    assert http.get("/console/decisions/no-such-id").status_code == 404


def test_replay_says_reproduced_or_differs(served):
    http, log = served
    decision_id = decide(http, json.loads(SEED.read_text()))
    sign_in(http)
    token = hidden(http.get(f"/console/decisions/{decision_id}").text, "form_token")
    replayed = http.post(f"/console/decisions/{decision_id}/replay", data={"form_token": token})
    assert replayed.status_code == 200 and "Reproduced: deciding it again gives the same bytes." in replayed.text
    with sqlite3.connect(log) as db:  # the row's decision edited: the chain says so, nothing is decided again
        db.execute("UPDATE decisions SET decision = replace(decision, '103.88', '999.99') WHERE id = ?", (decision_id,))
    damaged = http.post(f"/console/decisions/{decision_id}/replay", data={"form_token": token})
    assert damaged.status_code == 500 and "<h1>Log damaged</h1>" in damaged.text and "Reproduced" not in damaged.text
    assert http.get(f"/console/decisions/{decision_id}").status_code == 500


def test_what_the_facts_say_is_escaped_everywhere(served):
    http, _ = served
    facts = json.loads(SEED.read_text())
    facts["patient_id"] = PROBE
    facts["billing_practitioner"]["id"] = PROBE
    decision_id = decide(http, facts)
    sign_in(http)
    for page in (http.get("/console/search").text, http.get(f"/console/decisions/{decision_id}").text):
        assert PROBE not in page and "&lt;script&gt;" in page
    page = http.get(f"/console/decisions/{decision_id}").text
    header = re.search(r"@top-left \{ content: (\"[^\"]*\");", page).group(1)
    assert "<" not in header and "\\3c " in header  # the print header's CSS string cannot close the style element


def test_replay_shows_what_differs_when_the_pack_changed_since(tmp_path):
    pack = copy_chain(tmp_path)["cms-rpm-2026"]
    config = ServiceConfig(packs=(str(pack),), log=str(tmp_path / "log.sqlite"), tokens_file=tokens_file(tmp_path))
    with client(config, load_tokens(config.tokens_file)) as http:
        decision_id = decide(http, json.loads(SEED.read_text()), pack="cms-rpm-2026")
        sign_in(http)
        token = hidden(http.get(f"/console/decisions/{decision_id}").text, "form_token")
        change_rate(pack)
        replayed = http.post(f"/console/decisions/{decision_id}/replay", data={"form_token": token})
    assert replayed.status_code == 200
    text = unescape(replayed.text)
    assert "Differs: deciding it again does not give the same bytes." in text
    assert "pack_changed: " in text and "differs at /total" in text


def test_the_practice_page_adds_up_the_log_and_links_to_the_decisions_behind_it(served):
    http, _ = served
    billed: dict[str, dict[str, Decimal]] = defaultdict(lambda: defaultdict(Decimal))
    held: dict[str, Decimal] = defaultdict(Decimal)
    for path in sorted((ROOT / "examples").glob("20*.json")):
        decision = decided(http, json.loads(path.read_text())).json()
        month = json.loads(path.read_text())["month"]
        for line in decision["billable"]:
            billed[month][line["code"]] += Decimal(line["amount"])
        held[month] += sum(Decimal(x["amount_at_stake"]) for x in decision["findings"] + decision["not_billable"]
                           if x.get("amount_at_stake") is not None)
    decide(http, json.loads(SEED.read_text()))  # a month decided twice counts once
    sign_in(http)
    page = http.get("/console/practice")
    assert page.status_code == 200 and "From 10 patient-months in the decision log" in page.text
    codes = sorted({code for by_code in billed.values() for code in by_code})
    expected = [[month, *(str(billed[month][code]) if code in billed[month] else "–" for code in codes),
                 f"${sum(billed[month].values(), Decimal('0.00'))}", f"${held[month]:.2f}"] for month in sorted(billed)]
    assert rows_of(page.text, "The same figures") == expected
    assert held["2025-06"] == Decimal("110.62") and held["2026-01"] == Decimal("25.72")
    assert "<svg" in page.text and "<title id=\"chart-title\">Money billed by month and code</title>" in page.text

    count, href = re.search(r'<td class="num"><a href="([^"]+)">(\d+) patient-months?</a>', page.text).group(2, 1)
    behind = rows_of(http.get(unescape(href)).text, "Decisions in the log, newest first")
    assert len({(patient, month) for _, patient, month, *_ in behind}) == int(count) and len(behind) == int(count) + 1
    month_link = http.get("/console/search", params={"month": "2025-06"}).text
    assert "2 decisions match; 2 on this page, billing $129.38." in month_link


def test_a_reason_from_the_pack_is_escaped_on_every_page(tmp_path):
    pack = copy_chain(tmp_path, lambda text: text.replace("physician or QHP data collection",
                                                          f"{REASON_PROBE} data collection"))["cms-rpm-2026"]
    config = ServiceConfig(packs=(str(pack),), log=str(tmp_path / "log.sqlite"), tokens_file=tokens_file(tmp_path))
    with client(config, load_tokens(config.tokens_file)) as http:
        decision = decided(http, json.loads(SEED.read_text()), pack="cms-rpm-2026")
        assert any(REASON_PROBE in line["reason"] for line in decision.json()["not_billable"])
        sign_in(http)
        pages = [http.get(f"/console/decisions/{decision.headers['x-decision-id']}").text,
                 http.get("/console/practice").text]
    for page in pages:
        assert REASON_PROBE not in page and "&lt;img src=x onerror=alert(1)&gt;" in page


def test_instances_given_one_console_key_share_sessions(tmp_path, monkeypatch):
    (tmp_path / "console.key").write_text("k" * 64 + "\n")
    (tmp_path / "short.key").write_text("k" * 31)
    started = []
    monkeypatch.setattr("policyengine.service.run.serve", started.append)  # what serve would run with
    refused = CliRunner().invoke(main, ["serve", "--console-key-file", str(tmp_path / "short.key")])
    assert refused.exit_code == 2 and "short.key holds 31 bytes; a console key needs at least 32" in refused.output
    assert CliRunner().invoke(main, ["serve", "--console-key-file", str(tmp_path / "console.key")]).exit_code == 0
    assert CliRunner().invoke(main, ["serve", "--console-key-file", str(tmp_path / "missing.key")]).exit_code == 2
    (shared,) = [config.session_key for config in started]
    assert len(shared) == 64 and "k" * 32 not in shared  # a key derived from the file, not the file

    def search_with(cookie: str, session_key: str) -> int:
        config = ServiceConfig(log=str(tmp_path / "log.sqlite"), tokens_file=tokens_file(tmp_path), session_key=session_key)
        with client(config, load_tokens(config.tokens_file)) as other:
            return other.get("/console/search", headers={"Cookie": cookie}, follow_redirects=False).status_code

    config = ServiceConfig(log=str(tmp_path / "log.sqlite"), tokens_file=tokens_file(tmp_path), session_key=shared)
    with client(config, load_tokens(config.tokens_file)) as http:
        http.follow_redirects = False
        signed_in = sign_in(http)
    cookie = next(c for c in signed_in.headers.get_list("set-cookie") if c.startswith(f"{sessions.COOKIE}="))
    cookie = cookie.split(";")[0]
    assert search_with(cookie, shared) == 200  # another instance, the same key
    assert search_with(cookie, "ab" * 32) == 303  # another key: sign in again
