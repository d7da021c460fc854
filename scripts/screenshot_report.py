#!/usr/bin/env python3
"""Render the HTML report of one patient-month and screenshot it in headless Chromium.

    python scripts/screenshot_report.py [FACTS] [--out docs/explain-report.png] [--html docs/explain-report.html]

Default FACTS: the 2026-03 voicemail-and-messages example with two more calls (a
scheduling-only call and an undocumented one) so the ledger shows every kind of excluded
time. Needs the system `chromium` (apt-get install -y chromium).
"""
from __future__ import annotations

import argparse
import copy
import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from policyengine.api import evaluate  # noqa: E402
from policyengine.explain import explain, render  # noqa: E402


def default_facts() -> dict:
    facts = json.loads((ROOT / "examples" / "2026-03-voicemail-and-messages.json").read_text())
    call = copy.deepcopy(facts["interactions"][-1])
    facts["interactions"].append(dict(call, id="IX-20260320-01", date="2026-03-20", duration_seconds=300,
                                      clinical_topics=["scheduling"], summary="Rescheduled the device check."))
    undocumented = {k: v for k, v in call.items() if k not in ("performer", "summary")}
    facts["interactions"].append(dict(undocumented, id="IX-20260326-01", date="2026-03-26", duration_seconds=900))
    return facts


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("facts", nargs="?")
    parser.add_argument("--out", default=str(ROOT / "docs" / "explain-report.png"))
    parser.add_argument("--html", default=str(ROOT / "docs" / "explain-report.html"))
    args = parser.parse_args()
    facts = json.loads(Path(args.facts).read_text()) if args.facts else default_facts()
    page = render(explain(evaluate(facts, None, {}, "full")), "html")
    html_path = Path(args.html).resolve()
    html_path.write_text(page, encoding="utf-8")
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    if browser is None:
        print("chromium not found: apt-get install -y chromium", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory() as profile:
        command = [browser, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                   "--disable-background-networking", "--disable-component-update", "--disable-sync",
                   f"--user-data-dir={profile}", f"--screenshot={Path(args.out).resolve()}", "--window-size=1200,1600",
                   html_path.as_uri()]
        done = subprocess.run(command, capture_output=True, text=True, timeout=120)
    if done.returncode != 0 or not Path(args.out).exists():
        print(done.stderr[-2000:], file=sys.stderr)
        return 1
    print(f"wrote {args.html} and {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
