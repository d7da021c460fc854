"""Compiled packs kept between runs (`packs/cache.py`): a kept pack decides byte for byte as
the pack compiled anew; it is used only while its files, their names from here and the
engine are as they were; a damaged entry is rebuilt; a run that finds its pack kept imports
neither the compiler nor Lark, PyYAML or jsonschema."""
from __future__ import annotations

import json
import os
import pickle
import subprocess
import sys
from pathlib import Path

import pytest

from packcopy import copy_chain
from policyengine import to_json
from policyengine.api import evaluate
from policyengine.diagnostics import DiagnosticError
from policyengine.explain import explain, render
from policyengine.packs import bundled_ids, compile_pack, resolve_pack_dir
from policyengine.packs import cache

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = sorted((ROOT / "examples").glob("*.json"))


@pytest.fixture()
def kept(tmp_path, monkeypatch):
    """A fresh cache folder, and `load(directory)`, which goes through the cache and
    records in `compiled` each directory it had to compile."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.delenv("POLICYENGINE_PACK_CACHE", raising=False)
    compiled: list[Path] = []

    def compiling(directory: Path):
        compiled.append(directory)
        return compile_pack(directory)

    def load(directory: Path):
        return cache.cached_compile(directory.resolve(), compiling)

    load.compiled = compiled  # type: ignore[attr-defined]
    load.entries = lambda: sorted((tmp_path / "cache" / "policyengine" / "packs").glob("*.pack"))  # type: ignore[attr-defined]
    return load


@pytest.mark.parametrize("pack_id", bundled_ids())
def test_a_kept_pack_decides_and_explains_as_the_pack_compiled_anew(kept, pack_id):
    directory = resolve_pack_dir(pack_id)
    fresh = kept(directory)
    again = kept(directory)
    assert kept.compiled == [directory.resolve()] and again is not fresh  # read from its entry
    decided = 0
    for path in EXAMPLES:
        facts = json.loads(path.read_text())
        if not fresh.covers(facts["month"] + "-28"):
            continue
        decision = evaluate(facts, fresh, trace="full")
        assert to_json(evaluate(facts, again, trace="full")) == to_json(decision)
        for output_format in ("text", "html"):
            assert render(explain(decision, again), output_format) == render(explain(decision, fresh), output_format)
        decided += 1
    assert decided > 0
    assert (again.sha256, again.warnings, again.source_files) == (fresh.sha256, fresh.warnings, fresh.source_files)


def test_a_pack_is_compiled_again_when_a_file_it_extends_changes(kept, tmp_path):
    chain = copy_chain(tmp_path / "packs")
    before = kept(chain["cms-rpm-2026"])
    base = chain["cms-rpm-2024"] / "pack.yaml"
    base.write_text(base.read_text().replace("definitions:\n", "definitions:\n  added_in_the_base: 1\n", 1))
    after = kept(chain["cms-rpm-2026"])
    assert len(kept.compiled) == 2
    assert "added_in_the_base" in dict(after.definitions) and "added_in_the_base" not in dict(before.definitions)


def test_a_kept_pack_names_its_files_as_seen_from_the_working_directory(kept, tmp_path, monkeypatch):
    """A compiled pack carries its files' names (in its spans): from another folder they are
    other names, so the pack is compiled again."""
    chain = copy_chain(tmp_path / "packs")
    monkeypatch.chdir(tmp_path / "packs")
    kept(chain["cms-rpm-2026"])
    kept(chain["cms-rpm-2026"])
    assert len(kept.compiled) == 1
    monkeypatch.chdir(tmp_path)
    pack = kept(chain["cms-rpm-2026"])
    assert len(kept.compiled) == 2
    assert pack.rules[0].when.checked.root.span.source.name.startswith("packs/")


def _flip_a_payload_byte(entry: Path) -> None:
    data = bytearray(entry.read_bytes())
    data[-10] ^= 0xFF
    entry.write_bytes(bytes(data))


def _another_object_with_its_right_hash(entry: Path) -> None:
    header, _ = entry.read_bytes().split(b"\n", 1)
    payload = pickle.dumps({"not": "a pack"})
    fields = json.loads(header)
    fields["payload"] = __import__("hashlib").sha256(payload).hexdigest()
    entry.write_bytes(json.dumps(fields).encode() + b"\n" + payload)


DAMAGE = {
    "truncated": lambda entry: entry.write_bytes(entry.read_bytes()[:1000]),
    "a payload byte flipped": _flip_a_payload_byte,
    "header not JSON": lambda entry: entry.write_bytes(b"{not json\n" + entry.read_bytes().split(b"\n", 1)[1]),
    "empty": lambda entry: entry.write_bytes(b""),
    "another object, its hash right": _another_object_with_its_right_hash,
}


@pytest.mark.parametrize("damage", DAMAGE, ids=list(DAMAGE))
def test_a_damaged_entry_is_rebuilt(kept, damage):
    directory = resolve_pack_dir("cms-rpm-2026")
    expected = kept(directory).sha256
    (entry,) = kept.entries()
    DAMAGE[damage](entry)
    assert kept(directory).sha256 == expected  # compiled again, no traceback
    assert kept(directory).sha256 == expected  # and kept again
    assert len(kept.compiled) == 2


def test_a_pack_kept_by_another_engine_is_compiled_again(kept, monkeypatch):
    directory = resolve_pack_dir("cms-rpm-2025")
    kept(directory)
    monkeypatch.setattr(cache, "engine_stamp", lambda: "an engine edited since")
    kept(directory)
    assert len(kept.compiled) == 2


def test_an_invalid_pack_is_never_kept(kept, tmp_path):
    chain = copy_chain(tmp_path / "packs", lambda text: text.replace("when: ", "when: nonsense and ", 1))
    for _ in range(2):
        with pytest.raises(DiagnosticError):
            kept(chain["cms-rpm-2024"])
    assert len(kept.compiled) == 2 and kept.entries() == []


def test_nothing_is_kept_in_a_folder_others_may_write_or_when_turned_off(kept, tmp_path, monkeypatch):
    directory = resolve_pack_dir("cms-rpm-2026")
    monkeypatch.setenv("POLICYENGINE_PACK_CACHE", "off")
    kept(directory)
    kept(directory)
    assert len(kept.compiled) == 2 and kept.entries() == []
    monkeypatch.delenv("POLICYENGINE_PACK_CACHE")
    shared = tmp_path / "cache" / "policyengine"
    shared.mkdir(parents=True, exist_ok=True)
    os.chmod(shared, 0o777)
    kept(directory)
    kept(directory)
    assert len(kept.compiled) == 4 and kept.entries() == []


def test_the_least_recently_used_entries_go(kept, tmp_path, monkeypatch):
    monkeypatch.setattr(cache, "MAX_ENTRIES", 2)
    directories = [resolve_pack_dir(pack_id) for pack_id in bundled_ids()]
    assert len(directories) >= 3
    kept(directories[0])
    kept(directories[1])
    os.utime(kept.entries()[0], (1, 1))
    os.utime(kept.entries()[1], (1, 1))
    kept(directories[0])  # used again: the most recent
    kept(directories[2])
    assert len(kept.entries()) == 2
    kept(directories[0])
    assert len(kept.compiled) == 3  # 0 was still kept; 1 went


def test_a_run_that_finds_its_pack_kept_imports_no_compiler_lark_yaml_or_jsonschema(tmp_path):
    """What `evaluate` of one month costs at start-up (benchmarks/startup_bench.py): with its
    pack kept, none of the compile-time modules is imported."""
    script = ("import sys\nfrom policyengine.cli import main\n"
              "try:\n    main(['evaluate', sys.argv[1], '--trace', 'none'])\nexcept SystemExit as done:\n"
              "    assert done.code in (0, None), done.code\n"
              "print(sorted(m for m in ('lark', 'yaml', 'jsonschema', 'policyengine.packs.compiler') if m in sys.modules),"
              " file=sys.stderr)")
    env = {**os.environ, "XDG_CACHE_HOME": str(tmp_path)}
    env.pop("POLICYENGINE_PACK_CACHE", None)
    example = str(ROOT / "examples" / "2026-03-seed-22-minutes.json")
    runs = [subprocess.run([sys.executable, "-c", script, example], env=env, capture_output=True, text=True, timeout=120)
            for _ in range(2)]
    assert runs[0].stdout == runs[1].stdout and json.loads(runs[1].stdout)["total"]
    assert "policyengine.packs.compiler" in runs[0].stderr  # the first run compiled
    assert runs[1].stderr.strip() == "[]"
