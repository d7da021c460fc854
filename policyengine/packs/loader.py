"""Reading and merging rule-pack files (before any expression is compiled); finding them is `places.py`.

A pack is a directory holding `pack.yaml`. `extends:` names a bundled pack id or a
directory relative to the file, so a year builds on the year before and a practice
overlay builds on a bundled year. Merging is by name (options, parameters, codes,
definitions) or by id (gates, rules, findings, conflicts); a parameter's dated values are merged
date by date, OpenFisca style. Every merged entry remembers the file and JSON pointer it
came from, so errors found later point into the right file.
"""
from __future__ import annotations

import functools
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jsonschema

from .. import pointers, schemacheck
from ..diagnostics import Diagnostic, DiagnosticError, shown_path
from ..yamlsource import YamlDocument, load_yaml_file
from .places import PACK_FILE, PackNotFound, resolve_pack_dir

_NAMED = ("options", "parameters", "codes", "definitions")
_LISTED = ("gates", "rules", "findings", "conflicts")


@dataclass(frozen=True)
class Entry:
    """One merged pack entry and where it was written."""

    value: Any
    doc: YamlDocument = field(repr=False, compare=False)
    pointer: str
    #: for an entry merged from several files: key -> (file, pointer) of that key's value
    origins: dict[str, tuple[YamlDocument, str]] = field(default_factory=dict, repr=False, compare=False)

    def origin(self, key: str) -> tuple[YamlDocument, str]:
        """The file and JSON pointer where `key` (e.g. "when", "opportunity/by") was written."""
        if not key:
            return self.doc, self.pointer
        first, _, rest = key.partition("/")
        doc, pointer = self.origins.get(first, (self.doc, f"{self.pointer}/{first}"))
        return doc, f"{pointer}/{rest}" if rest else pointer


@dataclass
class SourcePack:
    """A pack after `extends` is resolved: entries in order, each with its origin."""

    meta: Entry
    chain: list[str]
    conversion_factor: Entry | None = None
    #: a pack-specific facts schema (already read), and where it was named
    facts_schema: dict | None = None
    facts_schema_entry: Entry | None = None
    coverage_threshold: float = 100.0
    #: every file read, base pack first (to tell when a compiled pack is out of date)
    files: list[Path] = field(default_factory=list)
    options: dict[str, Entry] = field(default_factory=dict)
    parameters: dict[str, Entry] = field(default_factory=dict)
    #: per parameter, per date: where that dated value was written
    parameter_values: dict[str, dict[str, Entry]] = field(default_factory=dict)
    codes: dict[str, Entry] = field(default_factory=dict)
    definitions: dict[str, Entry] = field(default_factory=dict)
    gates: dict[str, Entry] = field(default_factory=dict)
    rules: dict[str, Entry] = field(default_factory=dict)
    findings: dict[str, Entry] = field(default_factory=dict)
    conflicts: dict[str, Entry] = field(default_factory=dict)

    def canonical(self) -> dict:
        """The resolved content, independent of layout, comments and file names."""
        params = {}
        for name, entry in self.parameters.items():
            values = {d: e.value for d, e in sorted(self.parameter_values[name].items())}
            params[name] = {**entry.value, "values": values}
        return {
            "pack": self.meta.value,
            "facts_schema": self.facts_schema,
            "conversion_factor": self.conversion_factor.value if self.conversion_factor else None,
            "options": {k: e.value for k, e in self.options.items()},
            "parameters": params,
            "codes": {k: e.value for k, e in self.codes.items()},
            "definitions": {k: e.value for k, e in self.definitions.items()},
            **{section: [e.value for e in getattr(self, section).values()] for section in _LISTED},
        }


@functools.cache
def _pack_validator() -> jsonschema.Draft202012Validator:
    return jsonschema.Draft202012Validator(schemacheck.bundled_schema("rulepack.schema.json"))


def _read(directory: Path) -> YamlDocument:
    doc = load_yaml_file(shown_path(directory / PACK_FILE))
    if not isinstance(doc.data, dict):
        raise DiagnosticError([Diagnostic("pack.invalid", "a pack file must be a mapping", doc.span(""))])
    problems = schemacheck.check(doc.data, _pack_validator(), kind="pack", locate=doc.locate)
    if problems:
        raise DiagnosticError(problems)
    return doc


def load_source(ref: str | Path, _seen: tuple[Path, ...] = ()) -> SourcePack:
    """Read a pack and everything it extends; raises DiagnosticError."""
    directory = resolve_pack_dir(ref).resolve()
    doc = _read(directory)
    data = doc.data
    if "extends" in data:
        try:
            base_dir = resolve_pack_dir(data["extends"], directory).resolve()
        except PackNotFound as error:
            raise DiagnosticError([Diagnostic("pack.not_found", f"extends an unknown pack '{data['extends']}'",
                                              doc.span("/extends"), hint=error.diagnostics[0].hint)]) from None
        if base_dir in (*_seen, directory):
            cycle = " -> ".join(p.name for p in (*_seen, directory, base_dir))
            raise DiagnosticError([Diagnostic("pack.extends_cycle", f"packs extend each other in a cycle: {cycle}",
                                              doc.span("/extends"), hint="a pack extends the year before it, never itself")])
        base = load_source(base_dir, (*_seen, directory))
        base.chain.insert(0, data["pack"]["id"])
        base.meta = Entry(data["pack"], doc, "/pack")
    else:
        base = SourcePack(Entry(data["pack"], doc, "/pack"), [data["pack"]["id"]])
    base.files.append(directory / PACK_FILE)
    _merge(base, doc)
    return base


def _read_facts_schema(entry: Entry) -> dict:
    path = Path(entry.doc.source.name).parent / entry.value
    try:
        schema = json.loads(path.read_text(encoding="utf-8"))
        jsonschema.Draft202012Validator.check_schema(schema)
    except (OSError, ValueError, jsonschema.SchemaError) as error:
        reason = getattr(error, "strerror", None) or getattr(error, "message", None) or str(error)
        raise DiagnosticError([Diagnostic("pack.bad_facts_schema", f"cannot use facts schema {path}: {reason}",
                                          entry.doc.span(entry.pointer))]) from None
    missing = {"patient_id", "month"} - set(schema.get("required", ()))
    if missing:
        raise DiagnosticError([Diagnostic("pack.bad_facts_schema", "a facts schema must require "
                                          + " and ".join(sorted(missing)), entry.doc.span(entry.pointer))])
    return schema


def _merge(pack: SourcePack, doc: YamlDocument) -> None:
    """One file's content over what the files it extends said."""
    data = doc.data
    if "facts_schema" in data:
        pack.facts_schema_entry = Entry(data["facts_schema"], doc, "/facts_schema")
        pack.facts_schema = _read_facts_schema(pack.facts_schema_entry)
        pack.files.append((Path(doc.source.name).parent / data["facts_schema"]).resolve())
    if "coverage_threshold" in data:
        pack.coverage_threshold = float(data["coverage_threshold"])
    if "conversion_factor" in data:
        pack.conversion_factor = Entry(data["conversion_factor"], doc, "/conversion_factor")
    for section in _NAMED:
        for name, value in (data.get(section) or {}).items():
            _merge_entry(getattr(pack, section), name, value, doc, pointers.join(f"/{section}", name))
            if section == "parameters":
                dated = pack.parameter_values.setdefault(name, {})
                for day in value["values"]:
                    dated[day] = Entry(value["values"][day], doc, f"{pointers.join(f'/{section}', name)}/values/{day}")
    for section in _LISTED:
        seen: set[str] = set()
        for i, value in enumerate(data.get(section) or []):
            if value["id"] in seen:
                raise DiagnosticError([Diagnostic(
                    "pack.duplicate_id", f"{section[:-1]} id '{value['id']}' is used twice in this file",
                    doc.span(f"/{section}/{i}/id"))])
            seen.add(value["id"])
            _merge_entry(getattr(pack, section), value["id"], value, doc, f"/{section}/{i}")


def _merge_entry(entries: dict[str, Entry], name: str, value: Any, doc: YamlDocument, pointer: str) -> None:
    """An entry over the one of that name (or id) a base file wrote: an overlay restates
    only what it changes, and each key remembers where it was written; a listed entry
    (a rule, a gate) keeps its place."""
    base = entries.get(name)
    if isinstance(value, dict) and base is not None:
        origins = {key: base.origin(key) for key in base.value if key not in value}
        entries[name] = Entry({**base.value, **value}, doc, pointer, origins)
    else:
        entries[name] = Entry(value, doc, pointer)
