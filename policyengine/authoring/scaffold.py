"""`policyengine new-pack`: next year's overlay, started right.

The new pack extends its parent and restates nothing: it decides next year exactly as the
parent would (its dated values stay in force) until someone writes what the new fee
schedule changed. It comes with what the team needs from the first edit: a header that an
editor completes from the schema (the `yaml-language-server` line), its effective dates, a
README to say what changed and why, and a tests folder with one of the parent's cases moved
into the new year, chosen because it passes there, so `policyengine test` starts green.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import yaml

from ..diagnostics import Diagnostic, DiagnosticError
from ..packs import CompiledPack, bundled_ids, load_pack
from ..packs.places import PACK_FILE, resolve_pack_dir
from ..schemacheck import bundled_schema_path
from ..testing import load_cases, run_case
from ..testing.cases import Case
from ..testing.runner import CASES_DIR, case_files
from .redate import redate

#: the file the copied case is written to, in the new pack's tests folder
CASE_FILE = "carried-over.yaml"


@dataclass(frozen=True)
class Scaffold:
    """What `new-pack` wrote."""

    directory: Path
    pack_id: str
    #: the parent's case the tests folder starts from, where it was written
    case_from: str
    #: the schema the header links to
    schema: Path


def next_year(text: str, parent_year: int, year: int, joiner: str = "-") -> str:
    """The parent's id or title for the new year: its year replaced (cms-rpm-2026 ->
    cms-rpm-2027), else the year added."""
    old = str(parent_year)
    return text.replace(old, str(year)) if old in text else f"{text}{joiner}{year}"


def new_pack(parent_ref: str, year: int, directory: Path, pack_id: str | None = None) -> Scaffold:
    """Write an overlay of `parent_ref` for fee-schedule `year` into `directory` (new or
    empty). Raises DiagnosticError when the directory holds files, the year is not after
    the parent's, or no case of the parent passes in the new year."""
    parent = load_pack(parent_ref)
    _check_target(directory, parent, year)
    pack_id = pack_id or next_year(parent.id, parent.fee_schedule_year, year)
    directory.mkdir(parents=True, exist_ok=True)
    schema = _schema_file(directory)
    (directory / PACK_FILE).write_text(_pack_text(parent, parent_ref, year, pack_id, directory, schema),
                                       encoding="utf-8")
    (directory / "README.md").write_text(_readme(parent, year, pack_id), encoding="utf-8")
    child = load_pack(directory)
    case = _passing_case(parent, parent_ref, child)
    (directory / CASES_DIR).mkdir()
    (directory / CASES_DIR / CASE_FILE).write_text(_case_text(case), encoding="utf-8")
    return Scaffold(directory, pack_id, case.location, schema)


def _check_target(directory: Path, parent: CompiledPack, year: int) -> None:
    if directory.exists() and (not directory.is_dir() or any(directory.iterdir())):
        raise DiagnosticError([Diagnostic("new_pack.not_empty", f"{directory} already holds files",
                                          where=str(directory), hint="name a new or empty directory")])
    if year <= parent.fee_schedule_year:
        raise DiagnosticError([Diagnostic(
            "new_pack.bad_year", f"{parent.id} follows the {parent.fee_schedule_year} fee schedule; "
            f"a pack extending it is for a later year, not {year}", where="--year")])


def _extends(parent_ref: str, directory: Path) -> str:
    """How the new pack names its parent: the bundled id, or the parent's directory relative to it."""
    if parent_ref in bundled_ids():
        return parent_ref
    return Path(os.path.relpath(resolve_pack_dir(parent_ref).resolve(), directory.resolve())).as_posix()


def _schema_file(directory: Path) -> Path:
    """The schema the new pack's header links to: `schemas/rulepack.schema.json` in a folder
    above the pack when it is this version's schema (a checkout of this project), else a copy
    written beside the pack's folder (`rulepack.schema.json`, refreshed when it differs). The
    copy stays where the team keeps its packs; the schema inside the installed package moves
    or goes whenever the package is reinstalled, and a link into it would break."""
    text = bundled_schema_path("rulepack.schema.json").read_bytes()
    for folder in directory.resolve().parents:
        candidate = folder / "schemas" / "rulepack.schema.json"
        if candidate.is_file() and candidate.read_bytes() == text:
            return candidate
    beside = directory.resolve().parent / "rulepack.schema.json"
    if not beside.is_file() or beside.read_bytes() != text:
        beside.write_bytes(text)
    return beside


def _pack_text(parent: CompiledPack, parent_ref: str, year: int, pack_id: str, directory: Path, schema: Path) -> str:
    header = {"pack": {
        "id": pack_id,
        "version": "0.1.0",
        "fee_schedule_year": year,
        "title": next_year(parent.title or parent.id, parent.fee_schedule_year, year, ", CY") + " (draft)",
        "effective": {"from": date(year, 1, 1).isoformat(), "to": date(year, 12, 31).isoformat()},
    }}
    body = yaml.safe_dump(header, sort_keys=False, allow_unicode=True, width=110)
    link = Path(os.path.relpath(schema, directory.resolve())).as_posix()
    return (f"# yaml-language-server: $schema={link}\n"
            f"#\n"
            f"# CY{year} overlay of {parent.id}: it decides {year} as {parent.id} does until it says what the\n"
            f"# CY{year} fee schedule changed. Restate only that, each dated value with its citation and\n"
            f"# confidence (an existing parameter needs only `values:`), and list the final rule under\n"
            f"# pack: citations:. Then\n"
            f"#   policyengine validate DIR && policyengine lint DIR && policyengine test DIR\n"
            f"#   policyengine diff {parent.id} DIR && policyengine impact {parent.id} DIR last-year.jsonl\n"
            f"{body}\n"
            f"extends: {_extends(parent_ref, directory)}\n")


def _readme(parent: CompiledPack, year: int, pack_id: str) -> str:
    return (f"# {pack_id}: CY{year} draft, extending {parent.id}\n\n"
            f"Decides CY{year} dates of service as `{parent.id}` does, until `pack.yaml` says what the CY{year}\n"
            f"Physician Fee Schedule changed.\n\n"
            f"## What CY{year} changed\n\n"
            f"For each change: the parameter, code or rule, old and new, and the source (final rule, CMS\n"
            f"file). `policyengine diff {parent.id} .` lists what the pack says; this section says why.\n\n"
            f"## Checks\n\n"
            f"```sh\n"
            f"policyengine validate . && policyengine lint . && policyengine test .\n"
            f"policyengine impact {parent.id} . last-year.jsonl --csv changed.csv\n"
            f"```\n")


def _passing_case(parent: CompiledPack, parent_ref: str, child: CompiledPack) -> Case:
    """The first of the parent's cases that bills something and, moved into the new year,
    passes under the new pack."""
    for path in case_files(parent_ref):
        for case in load_cases(path):
            if not case.expect.get("billable"):
                continue
            try:
                facts = redate(case.facts, parent.fee_schedule_year, child.fee_schedule_year)
            except DiagnosticError:
                continue
            moved = Case(case.name, facts, case.options, case.expect, case.doc, case.pointer)
            if run_case(moved, child).passed:
                return moved
    raise DiagnosticError([Diagnostic(
        "new_pack.no_case", f"no case of {parent.id} that bills a code passes when moved into {child.fee_schedule_year}",
        where=str(resolve_pack_dir(parent_ref) / CASES_DIR), hint="write the new pack's first case by hand")])


def _case_text(case: Case) -> str:
    entry: dict = {"name": case.name, "carried_over_from": case.location, "facts": case.facts}
    if case.options:
        entry["options"] = case.options
    entry["expect"] = case.expect
    body = yaml.safe_dump({"cases": [entry]}, sort_keys=False, allow_unicode=True, width=110)
    return (f"# Moved into the new year (every date, the same month and day).\n"
            f"# Add a case for each change the pack makes, on both sides of each new threshold.\n{body}")
