"""The resources in the input: FHIR Bundles (JSON), single resources, and NDJSON files (the
bulk-data export format, one resource a line), each with its location in the input.

Files are read in the order given (a directory: its *.json and *.ndjson files, by name).
A Bundle's `urn:uuid:` references are rewritten to the `Type/id` of the entry whose
`fullUrl` they name, so every reference reads the same whichever file it came from.
"""
from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from .problems import Problem

NDJSON_SUFFIXES = (".ndjson", ".jsonl")


@dataclass(frozen=True)
class Located:
    """A resource and where it is in the input."""

    location: str
    resource: dict


def input_files(paths: Iterable[str | Path]) -> list[Path]:
    """The files to read: each path given, a directory expanded to its FHIR files by name."""
    files: list[Path] = []
    for path in map(Path, paths):
        if path.is_dir():
            files += sorted(p for p in path.rglob("*") if p.is_file() and p.suffix in (".json", *NDJSON_SUFFIXES))
        else:
            files.append(path)
    return files


def resources(files: Iterable[Path]) -> Iterator[Located | Problem]:
    """Every resource of every file in turn, or a problem where the input is not FHIR JSON."""
    for path in files:
        if path.suffix in NDJSON_SUFFIXES:
            yield from _ndjson(path)
        else:
            yield from _document(path)


def _ndjson(path: Path) -> Iterator[Located | Problem]:
    with path.open("rb") as lines:
        for number, line in enumerate(lines, 1):
            if not line.strip():
                continue
            where = f"{path}:{number}"
            try:
                resource = orjson.loads(line)
            except orjson.JSONDecodeError as error:
                yield Problem(where, "error", "fhir.malformed", f"not valid JSON: {error}")
                continue
            yield from _one(where, resource)


def _document(path: Path) -> Iterator[Located | Problem]:
    where = str(path)
    try:
        document = orjson.loads(path.read_bytes())
    except orjson.JSONDecodeError as error:
        yield Problem(where, "error", "fhir.malformed", f"not valid JSON: {error}")
        return
    if isinstance(document, dict) and document.get("resourceType") == "Bundle":
        yield from _bundle(where, document)
    else:
        yield from _one(f"{where}#", document)


def _bundle(where: str, bundle: dict) -> Iterator[Located | Problem]:
    entries = bundle.get("entry")
    if not isinstance(entries, list):
        yield Problem(f"{where}#/entry", "warning", "fhir.empty_bundle", "the Bundle has no entries")
        return
    keys = {}
    for entry in entries:
        if isinstance(entry, dict) and isinstance(entry.get("resource"), dict):
            resource = entry["resource"]
            full_url = entry.get("fullUrl")
            if isinstance(full_url, str) and full_url.startswith("urn:uuid:"):
                resource.setdefault("id", full_url.removeprefix("urn:uuid:"))
                keys[full_url] = f"{resource.get('resourceType')}/{resource['id']}"  # checked later, per entry
    for n, entry in enumerate(entries):
        at = f"{where}#/entry/{n}/resource"
        if not isinstance(entry, dict) or not isinstance(entry.get("resource"), dict):
            yield Problem(at, "error", "fhir.malformed", "a Bundle entry without a resource")
            continue
        if keys:
            _rewrite_references(entry["resource"], keys)
        yield from _one(at, entry["resource"])


def _one(where: str, resource: Any) -> Iterator[Located | Problem]:
    if not isinstance(resource, dict) or not isinstance(resource.get("resourceType"), str):
        yield Problem(where, "error", "fhir.malformed", "not a FHIR resource (no resourceType)")
    elif not isinstance(resource.get("id"), str) or not resource["id"]:
        yield Problem(where, "error", "fhir.no_id", f"a {resource['resourceType']} without an id cannot be referred to")
    else:
        yield Located(where, resource)


def _rewrite_references(node: Any, keys: dict[str, str]) -> None:
    """Every `reference` naming a Bundle entry's urn:uuid fullUrl, as that entry's Type/id."""
    if isinstance(node, dict):
        reference = node.get("reference")
        if isinstance(reference, str) and reference in keys:
            node["reference"] = keys[reference]
        for value in node.values():
            if isinstance(value, (dict, list)):
                _rewrite_references(value, keys)
    elif isinstance(node, list):
        for value in node:
            _rewrite_references(value, keys)
