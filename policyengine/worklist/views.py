"""The worklist written for people and programs, every view from the sheet's JSON data
(`Sheet.as_json`): text for a terminal, Markdown, CSV (a row per task), HTML (one
self-contained page, every value escaped) and JSON."""
from __future__ import annotations

import csv
import html
import io
import json
from collections.abc import Callable, Iterator
from typing import Any

from ..wording import counted

CSV_COLUMNS = ("patient_id", "practitioner", "month", "as_of", "kind", "codes", "action", "by", "days_left", "at_stake",
               "patient_earned", "patient_at_stake")


def _money(value: str | None) -> str:
    return f"${value}" if value is not None else "unknown"


def _earned(patient: dict) -> str:
    codes = ", ".join(f"{e['code']} x{e['units']}" for e in patient["earned"])
    return f"{_money(patient['total'])}" + (f" ({codes})" if codes else "")


def _headline(sheet: dict) -> str:
    practice = sheet["practice"]
    line = (f"Worklist as of {sheet['as_of']}: {counted(practice['patients'], 'patient')}, earned "
            f"{_money(practice['earned'])}, {_money(practice['at_stake'])} still at stake "
            f"({counted(practice['tasks'], 'task')})")
    if practice["problems"]:
        line += f"; {counted(practice['problems'], 'record')} could not be decided"
    if practice["other_months"]:
        line += f"; {counted(practice['other_months'], 'record')} of other months left out"
    return line


def _out_of_reach(item: dict) -> str:
    return (f"{item['code']} is out of reach: it needs {item['needs']} by {item['by']} "
            f"({counted(item['days_left'], 'day')} left; it would have added {_money(item['would_add'])})")


def _error(problem: dict) -> str:
    where = f"line {problem['line']}" if problem["line"] is not None else "a record"
    who = " ".join(v for v in (problem["patient_id"], problem["month"]) if v)
    first = problem["errors"][0]
    return f"{where}{f' ({who})' if who else ''}: {first['code']}: {first['message']}" + (
        f" (at {first['where']})" if first.get("where") else "")


def render_text(sheet: dict) -> str:
    lines = [_headline(sheet), "", "By practitioner"]
    lines += [f"  {p['practitioner']}  {counted(p['patients'], 'patient')}  earned {_money(p['earned'])}  "
              f"at stake {_money(p['at_stake'])}  {counted(p['tasks'], 'task')}" for p in sheet["practitioners"]]
    lines += ["", "Patients, most at stake first"]
    for patient in sheet["patients"]:
        lines.append(f"  {patient['patient_id']} ({patient['practitioner']}) {patient['month']}: earned "
                     f"{_earned(patient)}, at stake {_money(patient['at_stake'])}")
        lines += [f"    {_money(task['at_stake']):>9}  {' '.join(task['codes']) or '-':<6} {task['action']}"
                  for task in patient["tasks"]]
        lines += [f"    {'':>9}  {_out_of_reach(item)}" for item in patient["out_of_reach"]]
    if sheet["problems"]:
        lines += ["", "Could not be decided"] + [f"  {_error(problem)}" for problem in sheet["problems"]]
    return "\n".join(lines) + "\n"


def _cell(value: Any) -> str:
    return str(value).replace("|", "\\|").replace("\n", " ")


def render_markdown(sheet: dict) -> str:
    out = [f"# Worklist as of {sheet['as_of']}", "", _cell(_headline(sheet)), "", "## By practitioner", "",
           "| practitioner | patients | earned | at stake | tasks |", "|---|---:|---:|---:|---:|"]
    out += [f"| {_cell(p['practitioner'])} | {p['patients']} | {_money(p['earned'])} | {_money(p['at_stake'])} | "
            f"{p['tasks']} |" for p in sheet["practitioners"]]
    out += ["", "## Tasks, most at stake first", "",
            "| at stake | patient | practitioner | codes | what it takes | by |", "|---:|---|---|---|---|---|"]
    out += [f"| {_money(task['at_stake'])} | {_cell(patient['patient_id'])} | {_cell(patient['practitioner'])} | "
            f"{' '.join(task['codes'])} | {_cell(task['action'])} | {task['by'] or ''} |" for patient, task in _tasks(sheet)]
    reach = [(patient, item) for patient in sheet["patients"] for item in patient["out_of_reach"]]
    if reach:
        out += ["", "## Out of reach", ""] + [f"- {_cell(patient['patient_id'])}: {_cell(_out_of_reach(item))}"
                                             for patient, item in reach]
    if sheet["problems"]:
        out += ["", "## Could not be decided", ""] + [f"- {_cell(_error(problem))}" for problem in sheet["problems"]]
    return "\n".join(out) + "\n"


def _tasks(sheet: dict) -> Iterator[tuple[dict, dict]]:
    """(patient, task) in the worklist's order: patients by money at stake, then their tasks."""
    return ((patient, task) for patient in sheet["patients"] for task in patient["tasks"])


def _spreadsheet_safe(row: tuple) -> tuple:
    """Text that a spreadsheet would run as a formula (=, +, -, @ first: a patient id from
    the facts could be "=HYPERLINK(...)") kept as text with a leading apostrophe."""
    return tuple(f"'{cell}" if isinstance(cell, str) and cell[:1] in ("=", "+", "-", "@", "\t", "\r") else cell
                 for cell in row)


def render_csv(sheet: dict) -> str:
    """A row per task, per code out of reach (kind out_of_reach) and per record that could
    not be decided (kind error)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    writer.writerows(_spreadsheet_safe(row) for row in _csv_rows(sheet))
    return out.getvalue()


def _csv_rows(sheet: dict) -> Iterator[tuple]:
    for patient in sheet["patients"]:
        who = (patient["patient_id"], patient["practitioner"], patient["month"], patient["as_of"])
        for task in patient["tasks"]:
            yield (*who, task["kind"], " ".join(task["codes"]), task["action"], task["by"] or "",
                   "" if task["days_left"] is None else task["days_left"], task["at_stake"] or "",
                   patient["total"], patient["at_stake"])
        for item in patient["out_of_reach"]:
            yield (*who, "out_of_reach", item["code"], f"needs {item['needs']}", item["by"], item["days_left"], "",
                   patient["total"], patient["at_stake"])
    for problem in sheet["problems"]:
        yield (problem["patient_id"] or "", "", problem["month"] or "", sheet["as_of"], "error", "", _error(problem),
               "", "", "", "", "")


_STYLE = ("body{font:15px/1.45 system-ui,sans-serif;margin:2rem;color:#1b1b1b;max-width:70rem}"
          "table{border-collapse:collapse;margin:.5rem 0 1.5rem}th,td{border-bottom:1px solid #ccc;padding:.3rem .6rem;"
          "text-align:left;vertical-align:top}td.num,th.num{text-align:right}h1{font-size:1.4rem}h2{font-size:1.15rem}")


def render_html(sheet: dict) -> str:
    e = html.escape
    rows = [f"<tr><td>{e(p['practitioner'])}</td><td class=num>{p['patients']}</td><td class=num>{e(_money(p['earned']))}"
            f"</td><td class=num>{e(_money(p['at_stake']))}</td><td class=num>{p['tasks']}</td></tr>"
            for p in sheet["practitioners"]]
    tasks = [f"<tr><td class=num>{e(_money(task['at_stake']))}</td><td>{e(patient['patient_id'])}</td>"
             f"<td>{e(patient['practitioner'])}</td><td>{e(' '.join(task['codes']))}</td><td>{e(task['action'])}</td>"
             f"<td>{e(task['by'] or '')}</td></tr>" for patient, task in _tasks(sheet)]
    body = [f"<h1>Worklist as of {e(sheet['as_of'])}</h1>", f"<p>{e(_headline(sheet))}</p>", "<h2>By practitioner</h2>",
            "<table><tr><th>practitioner</th><th class=num>patients</th><th class=num>earned</th>"
            "<th class=num>at stake</th><th class=num>tasks</th></tr>", *rows, "</table>",
            "<h2>Tasks, most at stake first</h2>", "<table><tr><th class=num>at stake</th><th>patient</th>"
            "<th>practitioner</th><th>codes</th><th>what it takes</th><th>by</th></tr>", *tasks, "</table>"]
    reach = [f"<li>{e(patient['patient_id'])}: {e(_out_of_reach(item))}</li>"
             for patient in sheet["patients"] for item in patient["out_of_reach"]]
    if reach:
        body += ["<h2>Out of reach</h2>", "<ul>", *reach, "</ul>"]
    if sheet["problems"]:
        body += ["<h2>Could not be decided</h2>", "<ul>", *(f"<li>{e(_error(p))}</li>" for p in sheet["problems"]), "</ul>"]
    return ("<!DOCTYPE html>\n<html lang=en><head><meta charset=utf-8>"
            f"<title>Worklist as of {e(sheet['as_of'])}</title><style>{_STYLE}</style></head><body>\n"
            + "\n".join(body) + "\n</body></html>\n")


def render_json(sheet: dict) -> str:
    return json.dumps(sheet, indent=2, ensure_ascii=False) + "\n"


#: each output format's writer
VIEWS: dict[str, Callable[[dict], str]] = {"text": render_text, "markdown": render_markdown, "csv": render_csv,
                                           "html": render_html, "json": render_json}
