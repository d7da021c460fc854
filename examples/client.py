"""A billing system's side of the decision service: decide patient-months over HTTP, read
back what the decision log kept, and send a batch.

    policyengine serve --log decisions.sqlite &         # in another terminal
    python examples/client.py examples/2026-03-seed-22-minutes.json --explain
    python examples/client.py examples/*.json --batch --url http://127.0.0.1:8080
    python examples/client.py examples/*.json --wait 30  # a service started a moment ago

With tokens configured (serve --tokens FILE), give a token with the decide role in
POLICYENGINE_TOKEN (and one with audit in POLICYENGINE_AUDIT_TOKEN to read the log back).
Needs httpx (`pip install httpx`); the exit status is 1 when any request was refused.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import httpx


def headers(variable: str) -> dict[str, str]:
    token = os.environ.get(variable)
    return {"Authorization": f"Bearer {token}"} if token else {}


def summary(decision: dict) -> str:
    """One line: the patient-month, each billable code with its units, the total."""
    lines = ", ".join(f"{line['code']}x{line['units']}" for line in decision["billable"]) or "nothing billable"
    return f"{decision['patient_id']} {decision['month']}: {lines}; total ${decision['total']}"


def problem(response: httpx.Response) -> str:
    """A refusal as the service states it (`detail` is what the command line would print:
    where, what is wrong, and the code)."""
    return f"{response.status_code} {response.json()['detail'].rstrip()}"


def decide_each(http: httpx.Client, paths: list[Path], options: list[str], explain: bool) -> bool:
    """POST /v1/decisions for each facts file; with a decision log (and `explain`), read
    the decision's explanation back from it."""
    ok = True
    for path in paths:
        response = http.post("/v1/decisions", content=path.read_bytes(),
                             params=[("trace", "compact"), *(("option", pair) for pair in options)],
                             headers=headers("POLICYENGINE_TOKEN"))
        if response.status_code != 200:
            print(f"{path}: {problem(response)}", file=sys.stderr)
            ok = False
            continue
        print(f"{path.name}: {summary(response.json())}")
        decision_id = response.headers.get("X-Decision-Id")
        if decision_id:  # the service keeps a decision log
            print(f"  logged as {decision_id}")
            if explain:  # what an auditor reads of it, months later
                explained = http.get(f"/v1/decisions/{decision_id}/explanation", params={"format": "text"},
                                     headers=headers("POLICYENGINE_AUDIT_TOKEN") or headers("POLICYENGINE_TOKEN"))
                text = explained.text if explained.status_code == 200 else problem(explained)
                print("".join(f"  | {line}\n" for line in text.splitlines()), end="")
    return ok


def decide_batch(http: httpx.Client, paths: list[Path]) -> bool:
    """POST /v1/decisions:batch: one JSON line per file in, one line per input line out, streamed."""
    body = "".join(json.dumps(json.loads(path.read_text()), separators=(",", ":")) + "\n" for path in paths)
    ok = True
    with http.stream("POST", "/v1/decisions:batch", content=body.encode(), params={"trace": "none"},
                     headers=headers("POLICYENGINE_TOKEN")) as response:
        if response.status_code != 200:
            response.read()
            print(f"batch: {problem(response)}", file=sys.stderr)
            return False
        for path, line in zip(paths, response.iter_lines()):
            record = json.loads(line)
            if "error" in record:
                error = record["error"]
                print(f"{path.name}: line {record['line']}: {error.get('where') or ''} {error['message']} "
                      f"[{error['code']}]", file=sys.stderr)
                ok = False
            else:
                print(f"{path.name}: {summary(record)}")
    return ok


def wait_until_ready(http: httpx.Client, seconds: float) -> None:
    """Polls GET /readyz until the service answers 200, for at most `seconds` (a service
    started a moment ago is still loading its packs); the first request then says what is wrong."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if http.get("/readyz").status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("facts", nargs="+", type=Path, help="facts files (JSON), as policyengine evaluate reads them")
    parser.add_argument("--url", default="http://127.0.0.1:8080", help="the service (default: %(default)s)")
    parser.add_argument("--option", action="append", default=[], metavar="NAME=VALUE", help="a pack option")
    parser.add_argument("--explain", action="store_true", help="read each decision's explanation from the log")
    parser.add_argument("--batch", action="store_true", help="send the files as one JSON Lines batch")
    parser.add_argument("--wait", type=float, default=0, metavar="SECONDS",
                        help="wait up to this long for the service to be ready (one just started)")
    arguments = parser.parse_args()
    try:
        with httpx.Client(base_url=arguments.url, timeout=30) as http:
            wait_until_ready(http, arguments.wait)
            ok = decide_batch(http, arguments.facts) if arguments.batch else decide_each(
                http, arguments.facts, arguments.option, arguments.explain)
    except httpx.TransportError as error:
        print(f"cannot reach the service at {arguments.url}: {error}", file=sys.stderr)
        return 2
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
