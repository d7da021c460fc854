"""The HTML explanation printed by headless Chromium on US Letter (tests/browser.py): the seed example in at most
3 pages with its derivation closed, which prints closed (its summary, none of its expressions), and open when
asked for, in full."""
from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

import policyengine
from browser import load_html, pdf_page_count, pdf_text, print_to_pdf
from policyengine.explain import explain
from policyengine.explain.html import render_html

SEED = Path(__file__).resolve().parents[1] / "examples" / "2026-03-seed-22-minutes.json"
#: a step of the seed's derivation, and the summary the closed derivation shows in its place
STEP, SUMMARY = "definition:as_of_date", "every expression with the values of its parts"


@pytest.fixture(scope="module")
def seed():
    return explain(policyengine.evaluate(json.loads(SEED.read_text()), trace="full"))


def printed(browser, html: str, folder: Path) -> tuple[int, str]:
    load_html(browser, html, folder)
    pdf = print_to_pdf(browser)
    return pdf_page_count(pdf), " ".join(pdf_text(pdf).split())


def test_the_seed_explanation_prints_in_three_pages_with_the_derivation_closed(browser, seed, tmp_path):
    pages, text = printed(browser, render_html(seed), tmp_path)
    assert pages <= 3, pages
    assert "Parameters read" in text and "Derivation" in text and SUMMARY in text and STEP not in text
    assert "unverified" in text and not re.search("[\ufb00-\ufb06]", text)  # printed without ligatures: copied as typed


def test_an_open_derivation_prints_open(browser, seed, tmp_path):
    closed, _ = printed(browser, render_html(seed), tmp_path)
    pages, text = printed(browser, render_html(seed, derivation_open=True), tmp_path)
    assert STEP in text and pages > closed
