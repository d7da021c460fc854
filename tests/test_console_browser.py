"""The auditor's console in a real browser (headless Chromium, tests/browser.py) against a really served
service: the README's commands start it and the console shows the example decisions; an auditor signs in,
searches, opens a decision, follows a ledger row to its FHIR source, replays it, prints it (pages counted,
the running header on each) and opens the practice page; a decide token is refused; a script in a patient id
or a pack's reason is shown as text and never runs; every page passes axe-core's WCAG checks.

Each page's screenshot is written to $POLICYENGINE_CONSOLE_SCREENSHOTS when it is set (the README's pictures
in docs/console/ are made so), else to the test's folder."""
from __future__ import annotations

import json
import os
import re
import shlex
import signal
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner
from selenium.common.exceptions import NoAlertPresentException, WebDriverException
from selenium.webdriver.common.by import By
from selenium.webdriver.support.wait import WebDriverWait

from browser import TIMEOUT, accessibility_violations, describe_violations, pdf_page_texts, print_to_pdf, screenshot
from packcopy import copy_chain
from policyengine.cli import main
from policyengine.service.auth import load_tokens
from policyengine.service.config import ServiceConfig
from served import serving
from test_console import AUDITOR, BILLING, PROBE, REASON_PROBE, tokens_file
from test_log_two_instances import free_port

ROOT = Path(__file__).resolve().parents[1]
SEED = ROOT / "examples" / "2026-03-seed-22-minutes.json"
EXAMPLES = sorted((ROOT / "examples").glob("20*.json"))
FHIR = ROOT / "examples" / "fhir" / "16-reading-days.json"
#: the most pages the seed example's decision page may print to (issue 28)
SEED_PAGES = 3


@pytest.fixture
def shots(tmp_path) -> Path:
    folder = Path(os.environ.get("POLICYENGINE_CONSOLE_SCREENSHOTS") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def accessible(driver) -> None:
    violations = accessibility_violations(driver)
    assert not violations, f"{driver.current_url}\n{describe_violations(violations)}"


def no_script_ran(driver) -> None:
    with pytest.raises(NoAlertPresentException):
        driver.switch_to.alert.text  # noqa: B018 (a dialog a probe opened would be here)


def post(base: str, facts: dict | bytes, **params: str) -> str:
    body = facts if isinstance(facts, bytes) else json.dumps(facts).encode()
    answer = httpx.post(f"{base}/v1/decisions", content=body, params={"trace": "full", **params},
                        headers={"Authorization": f"Bearer {BILLING}"}, timeout=30)
    assert answer.status_code == 200, answer.text
    return answer.headers["x-decision-id"]


def submit(driver, button) -> None:
    """Clicks a link or a form's button and waits until the page it led to has replaced this one and loaded:
    this page is marked first, and the next has no mark (mid-navigation, the driver may answer with an error,
    which the wait polls past)."""
    driver.execute_script("window.policyengineLeft = true")
    button.click()
    WebDriverWait(driver, TIMEOUT, ignored_exceptions=(WebDriverException,)).until(lambda driver: driver.execute_script(
        "return window.policyengineLeft === undefined && document.readyState === 'complete'"))


def sign_in(driver, base: str, token: str = AUDITOR) -> None:
    driver.get(f"{base}/console")
    assert driver.current_url == f"{base}/console/sign-in"  # signed out: every page asks to sign in first
    driver.find_element(By.ID, "token").send_keys(token)
    submit(driver, driver.find_element(By.CSS_SELECTOR, "form.sign-in button"))


def table_rows(driver, caption: str) -> list[list[str]]:
    table = driver.find_element(By.XPATH, f"//table[caption='{caption}']")
    return [[cell.text for cell in row.find_elements(By.CSS_SELECTOR, "th, td")]
            for row in table.find_elements(By.CSS_SELECTOR, "tbody tr")]


@pytest.fixture
def service(tmp_path):
    """A service with a log and both roles' tokens, the example months decided through it, and the FHIR
    example's month (its facts carry their sources); yields the base URL and the seed's and FHIR's ids."""
    config = ServiceConfig(log=str(tmp_path / "log.sqlite"), tokens_file=tokens_file(tmp_path))
    ingested = tmp_path / "fhir.jsonl"
    result = CliRunner().invoke(main, ["ingest", "fhir", str(FHIR), "--out", str(ingested)])
    assert result.exit_code == 0, result.output
    with serving(config, load_tokens(config.tokens_file)) as base:
        ids = {path.stem: post(base, path.read_bytes()) for path in EXAMPLES}
        (fhir_month,) = ingested.read_text().splitlines()
        ids["fhir"] = post(base, fhir_month.encode())
        yield base, ids


def test_an_auditor_signs_in_searches_opens_follows_replays_and_prints(browser, service, shots):
    base, ids = service
    browser.get(f"{base}/console/sign-in")
    accessible(browser)
    screenshot(browser, shots / "sign-in.png")
    sign_in(browser, base)
    assert browser.current_url == f"{base}/console/search"
    assert len(table_rows(browser, "Decisions in the log, newest first")) == len(EXAMPLES) + 1
    accessible(browser)

    browser.find_element(By.ID, "patient").send_keys("PT-104233")
    browser.find_element(By.ID, "code").send_keys("99457")
    browser.find_element(By.CSS_SELECTOR, "#status option[value='billable']").click()
    submit(browser, browser.find_element(By.CSS_SELECTOR, "form.filters button"))
    (found,) = table_rows(browser, "Decisions in the log, newest first")
    assert found[1:3] == ["PT-104233", "2026-03"] and found[-2:] == ["$103.88", ids[SEED.stem]]
    assert "1 decision matches; 1 on this page, billing $103.88." in browser.find_element(By.CSS_SELECTOR, "p.summary").text
    screenshot(browser, shots / "search.png")

    submit(browser, browser.find_element(By.LINK_TEXT, ids[SEED.stem]))
    assert browser.current_url == f"{base}/console/decisions/{ids[SEED.stem]}"
    headings = [h.text for h in browser.find_elements(By.CSS_SELECTOR, "main h2")]
    assert headings[:3] == ["The answer", "The record", "Why: the explanation"]
    record = dict(zip((dt.text for dt in browser.find_elements(By.CSS_SELECTOR, "dl.facts dt")),
                      (dd.text for dd in browser.find_elements(By.CSS_SELECTOR, "dl.facts dd"))))
    assert record["Decision"] == ids[SEED.stem] and record["Caller"] == "billing" and record["Engine"]
    assert record["Pack"].startswith("cms-rpm-2026 ") and re.search(r"sha256 [0-9a-f]{64}$", record["Pack"])
    derivation = browser.find_element(By.XPATH, "//h2[.='Derivation']/following-sibling::details[1]")
    assert derivation.get_attribute("open") is None  # folded away until asked for
    accessible(browser)
    screenshot(browser, shots / "decision.png")

    pages = pdf_page_texts(print_to_pdf(browser))
    assert pages and len(pages) <= SEED_PAGES, len(pages)
    for number, text in enumerate(pages, 1):
        head = " ".join(text.split()[:9])
        assert head.startswith(f"PT-104233 · 2026-03 · decision {ids[SEED.stem]}"), head
        assert f"page {number} of {len(pages)}" in " ".join(text.split())
    assert "Sign out" not in " ".join(pages) and "Replay" not in " ".join(pages)
    assert not re.search("[\ufb00-\ufb06]", " ".join(pages))  # no ligature: "ff" in an id copies as "ff"

    submit(browser, browser.find_element(By.CSS_SELECTOR, "form.replay button"))
    replayed = browser.find_element(By.CSS_SELECTOR, ".replayed")
    assert replayed.text.startswith("Reproduced: deciding it again gives the same bytes.")
    no_script_ran(browser)


def test_a_ledger_row_and_a_counted_day_lead_to_their_fhir_records(browser, service):
    base, ids = service
    sign_in(browser, base)
    browser.get(f"{base}/console/decisions/{ids['fhir']}")
    browser.find_element(By.CSS_SELECTOR, "a[href='#src-interactions-0']").click()
    WebDriverWait(browser, TIMEOUT).until(lambda driver: driver.current_url.endswith("#src-interactions-0"))
    target = browser.find_element(By.CSS_SELECTOR, "tr:target")
    assert "/interactions/0" in target.text and "Encounter/" in target.text
    assert browser.execute_script("const r = arguments[0].getBoundingClientRect(); return r.top >= 0 && "
                                  "r.bottom <= window.innerHeight", target)  # scrolled to it
    browser.find_element(By.CSS_SELECTOR, ".days a[href='#src-transmission_days-0']").click()
    WebDriverWait(browser, TIMEOUT).until(lambda driver: driver.current_url.endswith("#src-transmission_days-0"))
    assert "Observation/" in browser.find_element(By.CSS_SELECTOR, "tr:target").text
    accessible(browser)


def test_the_practice_page_charts_the_money_and_links_to_the_decisions(browser, service, shots):
    base, _ = service
    sign_in(browser, base)
    submit(browser, browser.find_element(By.LINK_TEXT, "Practice"))
    assert browser.find_element(By.TAG_NAME, "h1").text == "Practice"
    chart = browser.find_element(By.CSS_SELECTOR, ".chart svg")
    assert chart.size["height"] > 100 and chart.find_elements(By.TAG_NAME, "rect")
    months = [row[0] for row in table_rows(browser, "The same figures")]
    assert months == sorted({json.loads(path.read_text())["month"] for path in EXAMPLES})
    accessible(browser)
    screenshot(browser, shots / "practice.png")

    reason = browser.find_element(By.XPATH, "//h2[@id='reasons']/following::tbody[1]/tr[1]")
    count, code, status = (cell.text for cell in reason.find_elements(By.TAG_NAME, "td")[:3])
    submit(browser, reason.find_element(By.TAG_NAME, "a"))
    assert browser.find_element(By.ID, "code").get_attribute("value") == code
    assert browser.find_element(By.ID, "status").get_attribute("value") == status
    listed = table_rows(browser, "Decisions in the log, newest first")
    assert len({(row[1], row[2]) for row in listed}) == int(count.split()[0])


def test_a_decide_token_is_refused_and_sees_no_page(browser, service):
    base, ids = service
    sign_in(browser, base, BILLING)
    assert browser.current_url == f"{base}/console/sign-in"
    assert "for billing systems (decide)" in browser.find_element(By.CSS_SELECTOR, ".alert").text
    for page in ("/console/search", f"/console/decisions/{ids[SEED.stem]}", "/console/practice"):
        browser.get(base + page)
        assert browser.current_url == f"{base}/console/sign-in", page
    assert not browser.get_cookie("policyengine_console")


def test_a_script_in_a_patient_id_or_a_reason_is_shown_as_text(browser, tmp_path):
    pack = copy_chain(tmp_path, lambda text: text.replace("physician or QHP data collection",
                                                          f"{REASON_PROBE} data collection"))["cms-rpm-2026"]
    config = ServiceConfig(packs=(str(pack),), log=str(tmp_path / "log.sqlite"), tokens_file=tokens_file(tmp_path))
    facts = json.loads(SEED.read_text())
    facts["patient_id"] = PROBE
    with serving(config, load_tokens(config.tokens_file)) as base:
        decision_id = post(base, facts, pack="cms-rpm-2026")
        sign_in(browser, base)
        assert PROBE in browser.find_element(By.CSS_SELECTOR, "table.results tbody").text
        browser.get(f"{base}/console/decisions/{decision_id}")
        assert browser.find_element(By.TAG_NAME, "h1").text.startswith(f"{PROBE}, 2026-03")
        assert REASON_PROBE in browser.find_element(By.CSS_SELECTOR, "section.explanation").text
        assert not browser.find_elements(By.CSS_SELECTOR, "main script, main img")
        no_script_ran(browser)
        head = " ".join(pdf_page_texts(print_to_pdf(browser))[0].split()[:4])
        assert head.startswith(f'{PROBE} · 2026-03'), head  # the print header's CSS string holds it as text
        browser.get(f"{base}/console/practice")
        assert REASON_PROBE in browser.find_element(By.XPATH, "//h2[@id='reasons']/following::table[1]").text
        no_script_ran(browser)


def console_commands() -> list[str]:
    text = (ROOT / "README.md").read_text()
    block = re.search(r"## The auditor's console\n.*?```sh\n(.*?)```", text, re.S)
    assert block, "the README has a block of commands for the console"
    return block.group(1).splitlines()


def test_the_readmes_commands_serve_the_examples_to_the_console(browser, tmp_path):
    """The README's console commands run in a folder holding the examples, on a free port (the one change), but
    for the install, which the suite has done: the service starts in the background, the client decides the
    examples through it, and the console lists every one."""
    (tmp_path / "examples").symlink_to(ROOT / "examples")
    install, tokens, serve, decide = console_commands()
    assert install.startswith("python3 -m pip install -e '.[service]'") and serve.endswith(" &")
    port = free_port()
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
           "POLICYENGINE_PACK_CACHE": "off"}
    subprocess.run(tokens, shell=True, cwd=tmp_path, check=True)
    served = (tmp_path / "serve.log").open("w")
    server = subprocess.Popen([*shlex.split(serve[:-1]), "--port", str(port)], cwd=tmp_path, env=env,
                              stdout=served, stderr=served, start_new_session=True)
    try:
        decided = subprocess.run(decide.replace("python3 ", f"{shlex.quote(sys.executable)} ", 1)
                                 + f" --url http://127.0.0.1:{port}", shell=True, cwd=tmp_path, env=env,
                                 capture_output=True, text=True, timeout=120)
        assert decided.returncode == 0, decided.stderr + (tmp_path / "serve.log").read_text()
        assert decided.stdout.count("logged as ") == len(EXAMPLES)
        auditor = re.search(r"auditor audit (\S+?)\\n", tokens).group(1)
        sign_in(browser, f"http://127.0.0.1:{port}", auditor)
        patients = {row[1] for row in table_rows(browser, "Decisions in the log, newest first")}
        assert patients == {json.loads(path.read_text())["patient_id"] for path in EXAMPLES}
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(30)
        served.close()
