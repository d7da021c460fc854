"""The resources in the input: FHIR Bundles (JSON), single resources, and NDJSON files (the
bulk-data export format, one resource a line), each with its location in the input.

Files are read in the order given (a directory: its files by name, *.json, *.ndjson and
*.jsonl read, any other reported). A Bundle is read wherever it is: a file, an NDJSON line,
or an entry of another Bundle (a batch response holds search-set Bundles), each of its
entries at its own location. A Bundle's references to its own entries (a `urn:uuid:` or an
absolute URL that is an entry's `fullUrl`) and to the server of its fullUrls are rewritten
to `Type/id`, so every reference reads the same whichever file it came from. What refuses a
part of the text (`jsontext.py`) refuses the resource it is in, or the file when it is in
none; a Bundle's other entries are read. What is read is told to a `progress` callback in
bytes of the files, so that a command can show how far it is (`input_size` is the whole).
"""
from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import orjson

from ..limits import MAX_FHIR_DOCUMENT_BYTES, MAX_FHIR_RESOURCE_BYTES
from .jsontext import read_json
from .problems import Problem, Refused, inside
from .references import on_server

NDJSON_SUFFIXES = (".ndjson", ".jsonl")
READ_SUFFIXES = (".json", *NDJSON_SUFFIXES)
#: bytes of an NDJSON file read before they are told to `progress`: a bar redrawn every line would slow the reading
PROGRESS_BYTES = 1 << 20


@dataclass(frozen=True)
class Located:
    """A resource and where it is in the input."""

    location: str
    resource: dict


def no_progress(done: int) -> None:
    """The `progress` of a caller that shows none."""


def input_files(paths: Iterable[str | Path]) -> list[Path]:
    """The files to read: each path given, a directory expanded to its FHIR JSON files by name."""
    return [path for path, given in _listed(paths) if _is_input(path, given)]


def input_size(paths: Iterable[str | Path]) -> int:
    """The bytes of the files to read: what `resources` tells its `progress` in all, when
    the files do not change while they are read."""
    return sum(_size(path) for path in input_files(paths))


def _is_input(path: Path, given: bool) -> bool:
    return given or path.suffix.lower() in READ_SUFFIXES


def _size(path: Path) -> int:
    return path.stat().st_size if path.exists() else 0


def _listed(paths: Iterable[str | Path]) -> Iterator[tuple[Path, bool]]:
    """Each file to look at, and whether it was given (else found in a directory given)."""
    for path in map(Path, paths):
        if path.is_dir():
            yield from ((found, False) for found in sorted(p for p in path.rglob("*") if p.is_file()))
        else:
            yield path, True


def resources(paths: Iterable[str | Path], progress: Callable[[int], None] = no_progress) -> Iterator[Located | Problem]:
    """Every resource of every file in turn, or a problem where the input is not FHIR JSON;
    `progress` is told the bytes of each file once what was read of them is yielded (an
    input file not read, all of it at once)."""
    for path, given in _listed(paths):
        where = os.fsencode(path).decode("utf-8", "backslashreplace")
        suffix = path.suffix.lower()
        if where != str(path):
            yield Problem(where, "error", "fhir.bad_file_name", "the file name is not UTF-8, so the report cannot name "
                          "the file exactly (shown here with \\x escapes): not read; rename it")
            progress(_size(path) if _is_input(path, given) else 0)
        elif suffix == ".xml":
            yield Problem(where, "error", "fhir.not_fhir_json", "FHIR XML is not read: give the resources as JSON "
                          "(a Bundle or a resource in *.json, NDJSON in *.ndjson)")
            progress(_size(path) if _is_input(path, given) else 0)
        elif suffix in NDJSON_SUFFIXES:
            yield from _ndjson(path, where, progress)
        elif given or suffix == ".json":
            yield from _document(path, where, progress)
        else:
            yield Problem(where, "info", "fhir.not_read", "not a FHIR JSON file by its name (*.json, *.ndjson, *.jsonl); "
                          "not read")


def _ndjson(path: Path, where: str, progress: Callable[[int], None]) -> Iterator[Located | Problem]:
    with path.open("rb") as lines:
        number = untold = 0
        while line := lines.readline(MAX_FHIR_RESOURCE_BYTES + 2):
            number += 1
            text = line.rstrip(b"\r\n")
            if len(text) > MAX_FHIR_RESOURCE_BYTES:
                untold += _skip_line(lines, line)
                yield _too_large(f"{where}:{number}", "the line")
            elif text.strip():
                yield from _parsed(text, f"{where}:{number}", f"{where}:{number}")
            untold += len(line)
            if untold >= PROGRESS_BYTES:
                progress(untold)
                untold = 0
        progress(untold)


def _skip_line(lines: IO[bytes], read: bytes) -> int:
    """Read on to the end of the line of which `read` was read, keeping none of it: the bytes read on."""
    skipped = 0
    while read and not read.endswith(b"\n"):
        read = lines.readline(1 << 20)
        skipped += len(read)
    return skipped


def _document(path: Path, where: str, progress: Callable[[int], None]) -> Iterator[Located | Problem]:
    with path.open("rb") as file:
        text = file.read(MAX_FHIR_DOCUMENT_BYTES + 1)
    if len(text) > MAX_FHIR_DOCUMENT_BYTES:
        yield Problem(where, "error", "fhir.too_large", f"the file is longer than {MAX_FHIR_DOCUMENT_BYTES:,} bytes, the "
                      "most one JSON file is read whole: not read (a larger export is NDJSON, one resource a line)")
        progress(_size(path))
    else:
        yield from _parsed(text, where, f"{where}#")
        progress(len(text))


def _too_large(where: str, what: str) -> Problem:
    return Problem(where, "error", "fhir.too_large", f"{what} is longer than {MAX_FHIR_RESOURCE_BYTES:,} bytes, the most "
                   "one resource may be: not read")


def _parsed(text: bytes, where: str, root: str) -> Iterator[Located | Problem]:
    """The resources of one JSON text: `where` locates the text, `root` its value."""
    try:
        value, refused = read_json(text)
    except orjson.JSONDecodeError as error:
        yield Problem(where, "error", "fhir.malformed", f"not valid JSON: {error}")
        return
    yield from _value(root, "", value, refused)


def _value(root: str, at: str, value: Any, refused: list[Refused]) -> Iterator[Located | Problem]:
    """The resource at the pointer `at` of a JSON value located at `root`, or the resources
    of a Bundle there; `refused`: what refuses a part of it. What refuses a Bundle's entry
    refuses that entry only."""
    is_bundle = isinstance(value, dict) and value.get("resourceType") == "Bundle"
    outside = [r for r in refused if not (is_bundle and r.element.startswith(f"{at}/entry/"))]
    if outside:
        yield Problem(inside(root, outside[0].element), "error", outside[0].code, str(outside[0]))
    elif is_bundle:
        yield from _bundle(root, at, value, refused)
    else:
        yield from _one(inside(root, at), value)


def _bundle(root: str, at: str, bundle: dict, refused: list[Refused]) -> Iterator[Located | Problem]:
    entries = bundle.get("entry")
    if not isinstance(entries, list):
        yield Problem(inside(root, f"{at}/entry"), "warning", "fhir.empty_bundle", "the Bundle has no entries")
        return
    keys, bases = _own_references(entries)
    for n, entry in enumerate(entries):
        place = f"{at}/entry/{n}"
        if not isinstance(entry, dict) or not isinstance(entry.get("resource"), dict):
            yield Problem(inside(root, f"{place}/resource"), "error", "fhir.malformed", "a Bundle entry without a resource")
            continue
        resource, in_entry = entry["resource"], _under(refused, place)
        _rewrite_references(resource, keys, bases)
        if not in_entry and resource.get("resourceType") != "Bundle" and len(orjson.dumps(resource)) > MAX_FHIR_RESOURCE_BYTES:
            yield _too_large(inside(root, f"{place}/resource"), "the resource")
        else:
            yield from _value(root, f"{place}/resource", resource, in_entry)


def _under(refused: list[Refused], at: str) -> list[Refused]:
    """What refuses the element at the pointer `at`, or one inside it."""
    return [r for r in refused if r.element == at or r.element.startswith(f"{at}/")]


def _own_references(entries: list) -> tuple[dict[str, str], set[str]]:
    """The Bundle's fullUrls, each with the Type/id of its entry's resource (an entry with a
    urn:uuid takes its id from it when it has none), and the servers of its absolute ones."""
    keys: dict[str, str] = {}
    bases: set[str] = set()
    for entry in entries:
        if not isinstance(entry, dict) or not isinstance(entry.get("resource"), dict):
            continue
        resource, full_url = entry["resource"], entry.get("fullUrl")
        if isinstance(full_url, str) and full_url.startswith("urn:uuid:"):
            resource.setdefault("id", full_url.removeprefix("urn:uuid:"))
        absolute = on_server(full_url)
        if absolute is not None:
            bases.add(absolute[0])
        if isinstance(full_url, str) and (absolute or full_url.startswith("urn:uuid:")):
            keys[full_url] = f"{resource.get('resourceType')}/{resource.get('id')}"  # checked later, per entry
    return keys, bases


def _rewrite_references(resource: dict, keys: dict[str, str], bases: set[str]) -> None:
    """Every `reference` in `resource` naming one of the Bundle's entries by its fullUrl, or a
    resource on the Bundle's server by its absolute URL, as that resource's Type/id."""
    if not keys and not bases:
        return
    stack: list[Any] = [resource]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            reference = node.get("reference")
            if isinstance(reference, str):
                absolute = on_server(reference)
                if reference in keys:
                    node["reference"] = keys[reference]
                elif absolute is not None and absolute[0] in bases:
                    node["reference"] = absolute[1]
            stack += [value for value in node.values() if isinstance(value, (dict, list))]
        elif isinstance(node, list):
            stack += [value for value in node if isinstance(value, (dict, list))]


def _one(where: str, resource: Any) -> Iterator[Located | Problem]:
    if not isinstance(resource, dict) or not isinstance(resource.get("resourceType"), str):
        yield Problem(where, "error", "fhir.malformed", "not a FHIR resource (no resourceType)")
    elif not isinstance(resource.get("id"), str) or not resource["id"]:
        yield Problem(where, "error", "fhir.no_id", f"a {resource['resourceType']} without an id cannot be referred to")
    else:
        yield Located(where, resource)
