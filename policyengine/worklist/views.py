"""The worklist written for people and programs: text for a terminal, Markdown, CSV (a row
per task), HTML (one self-contained page, every value escaped) and JSON. Every view is
written from the sheet's data (its summary, each patient's JSON, its problems) to a
stream, a patient at a time, so a practice of 100,000 months is never held as one text.
"""
from __future__ import annotations

import csv
import html
import io
from collections.abc import Callable, Iterator
from typing import IO, Any

import orjson

from ..wording import counted
from .sheet import Sheet

CSV_COLUMNS = ("patient_id", "practitioner", "month", "as_of", "kind", "codes", "action", "by", "days_left", "at_stake",
               "patient_earned", "patient_at_stake")


def _money(value: str | None) -> str:
    return f"${value}" if value is not None else "unknown"


def _earned(patient: dict) -> str:
    codes = ", ".join(f"{e['code']} x{e['units']}" for e in patient["earned"])
    return f"{_money(patient['total'])}" + (f" ({codes})" if codes else "")


def _headline(summary: dict) -> str:
    practice = summary["practice"]
    line = (f"Worklist as of {summary['as_of']}: {counted(practice['patients'], 'patient')}, earned "
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


def _lines(out: IO[str], lines: Iterator[str] | list[str]) -> None:
    out.writelines(line + "\n" for line in lines)


def write_text(sheet: Sheet, out: IO[str]) -> None:
    summary = sheet.summary()
    _lines(out, [_headline(summary), "", "By practitioner"])
    _lines(out, (f"  {p['practitioner']}  {counted(p['patients'], 'patient')}  earned {_money(p['earned'])}  "
                 f"at stake {_money(p['at_stake'])}  {counted(p['tasks'], 'task')}" for p in summary["practitioners"]))
    _lines(out, ["", "Patients, most at stake first"])
    for patient in sheet.patients():
        _lines(out, [f"  {patient['patient_id']} ({patient['practitioner']}) {patient['month']}: earned "
                     f"{_earned(patient)}, at stake {_money(patient['at_stake'])}"])
        _lines(out, (f"    {_money(task['at_stake']):>9}  {' '.join(task['codes']) or '-':<6} {task['action']}"
                     for task in patient["tasks"]))
        _lines(out, (f"    {'':>9}  {_out_of_reach(item)}" for item in patient["out_of_reach"]))
    if problems := sheet.problems:
        _lines(out, ["", "Could not be decided", *(f"  {_error(problem)}" for problem in problems)])


def _cell(value: Any) -> str:
    return str(value).replace("|", "\\|").replace("\n", " ")


def write_markdown(sheet: Sheet, out: IO[str]) -> None:
    summary = sheet.summary()
    _lines(out, [f"# Worklist as of {summary['as_of']}", "", _cell(_headline(summary)), "", "## By practitioner", "",
                 "| practitioner | patients | earned | at stake | tasks |", "|---|---:|---:|---:|---:|"])
    _lines(out, (f"| {_cell(p['practitioner'])} | {p['patients']} | {_money(p['earned'])} | {_money(p['at_stake'])} | "
                 f"{p['tasks']} |" for p in summary["practitioners"]))
    _lines(out, ["", "## Tasks, most at stake first", "",
                 "| at stake | patient | practitioner | codes | what it takes | by |", "|---:|---|---|---|---|---|"])
    _lines(out, (f"| {_money(task['at_stake'])} | {_cell(patient['patient_id'])} | {_cell(patient['practitioner'])} | "
                 f"{' '.join(task['codes'])} | {_cell(task['action'])} | {task['by'] or ''} |"
                 for patient, task in _tasks(sheet)))
    reach = [f"- {_cell(patient['patient_id'])}: {_cell(_out_of_reach(item))}" for patient, item in _out_of_reaches(sheet)]
    if reach:
        _lines(out, ["", "## Out of reach", "", *reach])
    if problems := sheet.problems:
        _lines(out, ["", "## Could not be decided", "", *(f"- {_cell(_error(problem))}" for problem in problems)])


def _tasks(sheet: Sheet) -> Iterator[tuple[dict, dict]]:
    """(patient, task) in the worklist's order: patients by money at stake, then their tasks."""
    return ((patient, task) for patient in sheet.patients() for task in patient["tasks"])


def _out_of_reaches(sheet: Sheet) -> Iterator[tuple[dict, dict]]:
    return ((patient, item) for patient in sheet.patients() for item in patient["out_of_reach"])


def _spreadsheet_safe(row: tuple) -> tuple:
    """Text that a spreadsheet would run as a formula (=, +, -, @ first: a patient id from
    the facts could be "=HYPERLINK(...)") kept as text with a leading apostrophe."""
    return tuple(f"'{cell}" if isinstance(cell, str) and cell[:1] in ("=", "+", "-", "@", "\t", "\r") else cell
                 for cell in row)


def write_csv(sheet: Sheet, out: IO[str]) -> None:
    """A row per task, per code out of reach (kind out_of_reach) and per record that could
    not be decided (kind error)."""
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    writer.writerows(_spreadsheet_safe(row) for row in _csv_rows(sheet))


def _csv_rows(sheet: Sheet) -> Iterator[tuple]:
    for patient in sheet.patients():
        who = (patient["patient_id"], patient["practitioner"], patient["month"], patient["as_of"])
        for task in patient["tasks"]:
            yield (*who, task["kind"], " ".join(task["codes"]), task["action"], task["by"] or "",
                   "" if task["days_left"] is None else task["days_left"], task["at_stake"] or "",
                   patient["total"], patient["at_stake"])
        for item in patient["out_of_reach"]:
            yield (*who, "out_of_reach", item["code"], f"needs {item['needs']}", item["by"], item["days_left"], "",
                   patient["total"], patient["at_stake"])
    for problem in sheet.problems:
        yield (problem["patient_id"] or "", "", problem["month"] or "", sheet.as_of, "error", "", _error(problem),
               "", "", "", "", "")


_STYLE = ("body{font:15px/1.45 system-ui,sans-serif;margin:2rem;color:#1b1b1b;max-width:70rem}"
          "table{border-collapse:collapse;margin:.5rem 0 1.5rem}th,td{border-bottom:1px solid #ccc;padding:.3rem .6rem;"
          "text-align:left;vertical-align:top}td.num,th.num{text-align:right}h1{font-size:1.4rem}h2{font-size:1.15rem}")


def write_html(sheet: Sheet, out: IO[str]) -> None:
    e = html.escape
    summary = sheet.summary()
    _lines(out, ["<!DOCTYPE html>", f"<html lang=en><head><meta charset=utf-8><title>Worklist as of {e(summary['as_of'])}"
                 f"</title><style>{_STYLE}</style></head><body>",
                 f"<h1>Worklist as of {e(summary['as_of'])}</h1>", f"<p>{e(_headline(summary))}</p>", "<h2>By practitioner</h2>",
                 "<table><tr><th>practitioner</th><th class=num>patients</th><th class=num>earned</th>"
                 "<th class=num>at stake</th><th class=num>tasks</th></tr>"])
    _lines(out, (f"<tr><td>{e(p['practitioner'])}</td><td class=num>{p['patients']}</td><td class=num>"
                 f"{e(_money(p['earned']))}</td><td class=num>{e(_money(p['at_stake']))}</td><td class=num>{p['tasks']}</td></tr>"
                 for p in summary["practitioners"]))
    _lines(out, ["</table>", "<h2>Tasks, most at stake first</h2>", "<table><tr><th class=num>at stake</th><th>patient</th>"
                 "<th>practitioner</th><th>codes</th><th>what it takes</th><th>by</th></tr>"])
    _lines(out, (f"<tr><td class=num>{e(_money(task['at_stake']))}</td><td>{e(patient['patient_id'])}</td>"
                 f"<td>{e(patient['practitioner'])}</td><td>{e(' '.join(task['codes']))}</td><td>{e(task['action'])}</td>"
                 f"<td>{e(task['by'] or '')}</td></tr>" for patient, task in _tasks(sheet)))
    _lines(out, ["</table>"])
    reach = [f"<li>{e(patient['patient_id'])}: {e(_out_of_reach(item))}</li>" for patient, item in _out_of_reaches(sheet)]
    if reach:
        _lines(out, ["<h2>Out of reach</h2>", "<ul>", *reach, "</ul>"])
    if problems := sheet.problems:
        _lines(out, ["<h2>Could not be decided</h2>", "<ul>", *(f"<li>{e(_error(p))}</li>" for p in problems), "</ul>"])
    _lines(out, ["</body></html>"])


def write_json(sheet: Sheet, out: IO[str]) -> None:
    """`Sheet.as_json()` indented by two spaces, written a patient at a time (each one's
    lines indented to its place in the list)."""
    def dumped(value: Any, depth: int) -> str:
        return orjson.dumps(value, option=orjson.OPT_INDENT_2).decode().replace("\n", "\n" + "  " * depth)

    summary = sheet.summary()
    out.write("{\n" + "".join(f'  {dumped(key, 0)}: {dumped(value, 1)},\n' for key, value in summary.items()))
    out.write('  "patients": [')
    for n, patient in enumerate(sheet.patients()):
        out.write(("," if n else "") + "\n    " + dumped(patient, 2))
    out.write("\n  ]," if summary["practice"]["patients"] else "],")
    out.write(f'\n  "problems": {dumped(sheet.problems, 1)}\n}}\n')


#: each output format's writer
VIEWS: dict[str, Callable[[Sheet, IO[str]], None]] = {"text": write_text, "markdown": write_markdown, "csv": write_csv,
                                                      "html": write_html, "json": write_json}


def render(sheet: Sheet, output_format: str) -> str:
    """The whole view as one text (for a small sheet; a command writes to its file)."""
    out = io.StringIO()
    VIEWS[output_format](sheet, out)
    return out.getvalue()
