"""policyengine new-pack: next year's overlay validates, lints clean of errors and passes its
own test as written, and decides as its parent until it is edited."""
from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from policyengine import evaluate
from policyengine.authoring.lint import lint_pack
from policyengine.authoring.redate import redate
from policyengine.authoring.scaffold import CASE_FILE, new_pack
from policyengine.cli import main
from policyengine.diagnostics import DiagnosticError
from policyengine.packs import load_pack
from policyengine.testing import load_cases, test_pack
from policyengine.testing.cases import run_case

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def made(tmp_path):
    return new_pack("cms-rpm-2026", 2027, tmp_path / "acme-2027")


def test_the_new_pack_validates_and_its_copied_case_passes(made):
    pack = load_pack(made.directory)
    assert (pack.id, pack.fee_schedule_year, pack.effective_from, pack.effective_to) == \
        ("cms-rpm-2027", 2027, "2027-01-01", "2027-12-31")
    assert pack.chain == ("cms-rpm-2027", "cms-rpm-2026", "cms-rpm-2025", "cms-rpm-2024")
    report = test_pack(pack, made.directory)
    assert report.ok and len(report.results) == 1, report.render()
    (case,) = load_cases(made.directory / "tests" / CASE_FILE)
    assert case.facts["month"].startswith("2027-") and case.expect["billable"]
    assert lint_pack(pack).errors == 0


def test_the_schema_link_survives_the_package_being_reinstalled(tmp_path, monkeypatch):
    """Installed from a wheel, the schema lives in site-packages, which a reinstall or a new
    virtualenv moves: the header links to a copy beside the packs instead; in a checkout of
    the project, to its schemas/ folder."""
    import shutil

    from policyengine.authoring import scaffold
    installed = tmp_path / "venv" / "site-packages" / "rulepack.schema.json"
    installed.parent.mkdir(parents=True)
    shutil.copy(scaffold.bundled_schema_path("rulepack.schema.json"), installed)
    monkeypatch.setattr(scaffold, "bundled_schema_path", lambda name: installed)
    made = new_pack("cms-rpm-2026", 2027, tmp_path / "team" / "packs" / "cms-rpm-2027")
    assert made.schema == tmp_path / "team" / "packs" / "rulepack.schema.json"
    assert (made.directory / "pack.yaml").read_text().startswith("# yaml-language-server: $schema=../rulepack.schema.json\n")
    shutil.rmtree(tmp_path / "venv")
    assert made.schema.read_bytes() and (made.directory / ".." / "rulepack.schema.json").resolve().is_file()
    checkout = tmp_path / "checkout"
    (checkout / "schemas").mkdir(parents=True)
    (checkout / "schemas" / "rulepack.schema.json").write_bytes(made.schema.read_bytes())
    monkeypatch.setattr(scaffold, "bundled_schema_path", lambda name: made.schema)
    inside = new_pack("cms-rpm-2026", 2027, checkout / "rulepacks" / "cms-rpm-2027")
    assert inside.schema == checkout / "schemas" / "rulepack.schema.json"
    assert not (checkout / "rulepacks" / "rulepack.schema.json").exists()


def test_the_readme_edit_moves_the_carried_over_case_and_the_failure_says_why(made):
    """The README's step 2, as written (21 minutes, a new conversion factor), then step 5."""
    readme = (ROOT / "README.md").read_text()
    start = readme.index("   parameters:\n     conversion_factor:")
    edit = readme[start:readme.index("   ```", start)]
    with (made.directory / "pack.yaml").open("a") as pack_file:
        pack_file.write("\n" + "\n".join(line[3:] for line in edit.splitlines()) + "\n")
    pack = load_pack(made.directory)
    (failed,) = test_pack(pack, made.directory).failed
    assert failed.case.carried_over_from == made.case_from
    assert failed.failures[-1].startswith(f"new-pack carried this case over from {made.case_from}, where cms-rpm-2026 "
                                          "decides it as it expects")
    assert "policyengine diff cms-rpm-2026" in failed.failures[-1]


def test_a_case_written_for_the_pack_fails_without_that_hint(made):
    pack = load_pack(made.directory)
    (case,) = load_cases(made.directory / "tests" / CASE_FILE)
    wrong = dataclasses.replace(case, carried_over_from=None, expect={"total": "0.01"})
    assert not any("carried this case over" in failure for failure in run_case(wrong, pack).failures)


def test_the_header_names_the_schema_an_editor_completes_from(made):
    first = (made.directory / "pack.yaml").read_text().splitlines()[0]
    schema = re.fullmatch(r"# yaml-language-server: \$schema=(.+)", first)
    assert schema is not None
    assert (made.directory / schema.group(1)).resolve().name == "rulepack.schema.json"
    assert (made.directory / schema.group(1)).resolve().is_file()
    assert "CY2027" in (made.directory / "README.md").read_text()


def test_until_edited_it_decides_as_its_parent_would(made):
    (case,) = load_cases(made.directory / "tests" / CASE_FILE)
    parent = evaluate(redate(case.facts, 2027, 2026), "cms-rpm-2026", trace="none")
    child = evaluate(case.facts, made.directory, trace="none")
    assert [(b["code"], b["units"], b["amount"]) for b in child["billable"]] == \
        [(b["code"], b["units"], b["amount"]) for b in parent["billable"]]


def test_a_directory_parent_is_extended_by_relative_path(made, tmp_path):
    grandchild = new_pack(str(made.directory), 2028, tmp_path / "acme-2028")
    assert "extends: ../acme-2027\n" in (grandchild.directory / "pack.yaml").read_text()
    assert test_pack(load_pack(grandchild.directory), grandchild.directory).ok


@pytest.mark.parametrize("args,words", [
    (["--extends", "cms-rpm-2026", "--year", "2026"], "a pack extending it is for a later year, not 2026"),
    (["--extends", "cms-rpm-2099", "--year", "2100"], "no rule pack at 'cms-rpm-2099'"),
])
def test_bad_arguments_exit_2_with_a_message(tmp_path, args, words):
    result = CliRunner().invoke(main, ["new-pack", *args, str(tmp_path / "new")])
    assert result.exit_code == 2 and words in result.output
    assert not (tmp_path / "new").exists()


def test_it_never_writes_over_files(made):
    with pytest.raises(DiagnosticError, match="already holds files"):
        new_pack("cms-rpm-2026", 2027, made.directory)


def test_the_command_says_what_it_wrote_and_what_to_run_next(tmp_path):
    result = CliRunner().invoke(main, ["new-pack", "--extends", "cms-rpm-2026", "--year", "2027", "--id", "acme-rpm-2027",
                                       str(tmp_path / "acme")])
    assert result.exit_code == 0, result.output
    assert result.output.startswith(f"acme-rpm-2027 in {tmp_path / 'acme'}: pack.yaml, README.md, tests/")
    assert f"next: policyengine validate {tmp_path / 'acme'}" in result.output
    assert CliRunner().invoke(main, ["test", str(tmp_path / "acme")]).exit_code == 0
