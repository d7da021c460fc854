"""`serve --config FILE`: every serve option from TOML, a flag or an environment variable
overriding it; a bad file is one usage error naming the file and the setting; the README's
table names every setting with its flag and environment variable."""
from __future__ import annotations

import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from policyengine.cli import main
from policyengine.cli.service import serve
from policyengine.cli.settings import envvar, setting_name

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def served(monkeypatch):
    """The ServiceConfig serve would run with (nothing is served)."""
    seen = []
    monkeypatch.setattr("policyengine.service.run.serve", seen.append)
    return seen


def run(*args: object, env: dict | None = None):
    return CliRunner().invoke(main, ["serve", *map(str, args)], env=env)


def test_every_setting_comes_from_the_file(tmp_path, served, monkeypatch):
    monkeypatch.chdir(tmp_path)  # serve opens the log (as given: relative to here) before it would serve
    (tmp_path / "packs").mkdir()
    pack = tmp_path / "packs" / "acme-2026"
    from policyengine.authoring.scaffold import new_pack
    new_pack("cms-rpm-2025", 2026, pack, "acme-2026")
    (tmp_path / "serve.toml").write_text(
        'port = 9123\nworkers = 2\npack = ["packs/acme-2026", "cms-rpm-2026"]\nlog = "decisions.sqlite"\n'
        "time_limit = 2.5\nmax_body_bytes = 50000\n")
    result = run("--config", tmp_path / "serve.toml")
    assert result.exit_code == 0, result.output
    (config,) = served
    assert (config.port, config.workers, config.time_limit, config.max_body_bytes) == (9123, 2, 2.5, 50000)
    assert config.packs == (str(pack), "cms-rpm-2026")  # a path read from the file's folder; a bundled id as given
    assert config.log == "decisions.sqlite"  # nothing of that name beside the file yet: as given


def test_a_flag_or_an_environment_variable_wins_over_the_file(tmp_path, served):
    (tmp_path / "serve.toml").write_text("port = 9123\nworkers = 2\n")
    assert run("--config", tmp_path / "serve.toml", "--port", 9200).exit_code == 0
    assert run("--config", tmp_path / "serve.toml", env={"POLICYENGINE_SERVE_PORT": "9300"}).exit_code == 0
    assert run("--port", 9400, "--config", tmp_path / "serve.toml", env={"POLICYENGINE_SERVE_PORT": "9300"}).exit_code == 0
    assert [(c.port, c.workers) for c in served] == [(9200, 2), (9300, 2), (9400, 2)]


@pytest.mark.parametrize(("text", "words"), [
    ("prot = 9000\n", "serve.toml: unknown setting 'prot' (did you mean 'port'?)"),
    ('port = "x"\n', "serve.toml: port: 'x' is not a valid integer"),
    ("port = 70000\n", "serve.toml: port: 70000 is not in the range"),
    ('pack = "cms-rpm-2026"\n', 'serve.toml: pack is a list, as ["...", ...]'),
    ("port = \n", "serve.toml: not TOML: Invalid value (at line 1, column 8)"),
])
def test_a_bad_file_is_one_usage_error_naming_the_setting(tmp_path, served, text, words):
    (tmp_path / "serve.toml").write_text(text)
    result = run("--config", tmp_path / "serve.toml")
    assert result.exit_code == 2 and words in result.output, result.output
    assert not served


def test_the_readme_table_names_every_setting():
    text = (ROOT / "README.md").read_text()
    table = text[text.index("| setting | flag | environment variable |"):]
    table = table[:table.index("\n\n")]
    rows = {match.group(1): (match.group(2), match.group(3))
            for match in re.finditer(r"^\| `(\w+)` \| `(--[\w-]+)` \| `(\w+)` \|", table, re.M)}
    options = [p for p in serve.params if p.name and setting_name(p) != "config"]
    assert set(rows) == {setting_name(p) for p in options}
    for option in options:
        flag = next(opt for opt in option.opts if opt.startswith("--"))
        assert rows[setting_name(option)] == (flag, envvar(flag))
