"""Hostile and broken facts (issue 11): each is a clean DiagnosticError naming where, from
text (JSON and YAML), from data given to the Python API, and from the command line."""
from __future__ import annotations

import io
import json
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

import policyengine
from policyengine import limits
from policyengine.batch import run_batch
from policyengine.cli import main
from policyengine.diagnostics import Diagnostic, DiagnosticError
from policyengine.facts import check_facts, parse_facts_line, parse_facts_text
from policyengine.limits import MAX_DEPTH, MAX_FACTS_BYTES, MAX_INT, MIN_INT

SEED = Path(__file__).parent.parent / "examples" / "2026-03-seed-22-minutes.json"
BASE = '{"patient_id": "PT-1", "month": "2026-03", "x_extra": %s}'


@pytest.fixture
def seed() -> dict:
    return json.loads(SEED.read_text())


def refusal(call: Any, *args: Any) -> list[Diagnostic]:
    with pytest.raises(DiagnosticError) as caught:
        call(*args)
    return caught.value.diagnostics


def from_text(text: str, name: str = "facts.json") -> list[Diagnostic]:
    """What reading `text` and checking it refuses, the way `policyengine evaluate` does."""
    return refusal(lambda: check_facts(parse_facts_text(text, name)))


def where_and_code(diagnostics: list[Diagnostic]) -> list[tuple[str, str]]:
    return [(d.location, d.code) for d in diagnostics]


def nested(levels: int) -> list:
    """`levels` lists, each inside the one before (built without recursion)."""
    value: list = []
    for _ in range(levels - 1):
        value = [value]
    return value


DEEP_POINTER = "/x_extra" + "/0" * (MAX_DEPTH - 1)  # the first list nested MAX_DEPTH + 1 deep


# --- nesting -----------------------------------------------------------------------------------


@pytest.mark.parametrize("levels", [MAX_DEPTH, 500, 100_000])
def test_json_text_nested_too_deep_names_the_first_container_beyond_the_limit(levels):
    # the document is one level, so MAX_DEPTH lists under a key make MAX_DEPTH + 1
    text = BASE % ("[" * levels + "]" * levels)
    assert where_and_code(from_text(text)) == [(DEEP_POINTER, "facts.too_deep")]


def test_json_text_nested_to_the_limit_is_read():
    text = BASE % ("[" * (MAX_DEPTH - 1) + "]" * (MAX_DEPTH - 1))
    (warning,) = check_facts(parse_facts_text(text, "facts.json")).warnings
    assert warning.code == "facts.unknown_field"


def test_deep_text_that_never_closes_is_refused_as_too_deep_not_a_crash():
    assert where_and_code(from_text('{"x_extra": ' + "[{\"k\": " * 50_000)) == [
        ("/x_extra" + "/0/k" * 31 + "/0", "facts.too_deep")]


@pytest.mark.parametrize("levels", [MAX_DEPTH, 100_000])
def test_python_data_nested_too_deep(levels):
    facts = {"patient_id": "PT-1", "month": "2026-03", "x_extra": nested(levels)}
    assert where_and_code(refusal(policyengine.evaluate, facts)) == [(DEEP_POINTER, "facts.too_deep")]


def test_python_data_that_refers_to_itself_is_too_deep():
    facts: dict = {"patient_id": "PT-1", "month": "2026-03"}
    facts["x_extra"] = [facts]
    (error,) = refusal(policyengine.evaluate, facts)
    assert error.code == "facts.too_deep"


def test_yaml_nested_too_deep_is_refused_at_its_line_and_column():
    text = "patient_id: PT-1\nmonth: 2026-03\nx_extra: " + "[" * 10_000 + "]" * 10_000 + "\n"
    assert where_and_code(from_text(text, "facts.yaml")) == [(f"facts.yaml:3:{10 + MAX_DEPTH - 1}", "facts.too_deep")]


# --- integers ----------------------------------------------------------------------------------


@pytest.mark.parametrize("value", [MAX_INT + 1, MIN_INT - 1, 10**30, -(10**30)])
def test_integer_beyond_64_bits_in_an_unknown_key(value):
    (error,) = from_text(BASE % value)
    assert (error.location, error.code) == ("/x_extra", "facts.integer_too_large")
    assert error.message == f"the integer {value} does not fit in 64 bits"


@pytest.mark.parametrize("value", [MAX_INT, MIN_INT])
def test_integers_at_the_ends_of_the_range_are_read(value):
    assert check_facts(parse_facts_text(BASE % value, "facts.json")).warnings


def test_integer_beyond_64_bits_in_a_known_field_of_python_data(seed):
    seed["interactions"][1]["duration_seconds"] = 2**64
    seed["claims"] = [{"code": "99457", "units": 2**200}]
    assert where_and_code(refusal(policyengine.evaluate, seed)) == [
        ("/claims/0/units", "facts.integer_too_large"),
        ("/interactions/1/duration_seconds", "facts.integer_too_large"),
    ]


def test_integer_of_thousands_of_digits():
    (error,) = from_text(BASE % ("[1, " + "7" * 5000 + "]"))
    assert (error.location, error.code) == ("/x_extra/1", "facts.integer_too_large")
    assert "an integer of 5,000 digits" in error.message
    (error,) = from_text("patient_id: PT-1\nmonth: 2026-03\nx_extra: " + "7" * 5000 + "\n", "facts.yaml")
    assert (error.location, error.code) == ("facts.yaml:3:10", "facts.integer_too_large")


def test_integer_of_thousands_of_digits_in_python_data_is_described_by_its_size():
    (error,) = refusal(policyengine.evaluate, {"patient_id": "PT-1", "month": "2026-03", "x_extra": 10**5000})
    assert error.message == "an integer of 16,610 bits does not fit in 64 bits"


# --- Unicode -----------------------------------------------------------------------------------


def test_lone_surrogate_in_a_value_and_in_a_key():
    text = '{"patient_id": "PT-\\ud800", "month": "2026-03", "k\\udfff": 1, "emoji": "\\ud83d\\ude00"}'
    errors = from_text(text)
    assert where_and_code(errors) == [("/", "facts.bad_unicode"), ("/patient_id", "facts.bad_unicode")]
    assert errors[0].message == "the key 'k\\udfff' holds a lone surrogate (U+DFFF), which is not Unicode text"
    assert "(U+D800)" in errors[1].message


def test_lone_surrogate_in_python_data_and_in_yaml(seed):
    seed["interactions"][0]["summary"] = "ok \udc80"
    assert where_and_code(refusal(policyengine.evaluate, seed)) == [("/interactions/0/summary", "facts.bad_unicode")]
    yaml_text = 'patient_id: "PT-\\ud800"\nmonth: 2026-03\n'
    assert where_and_code(from_text(yaml_text, "facts.yaml")) == [("/patient_id", "facts.bad_unicode")]


def test_a_valid_surrogate_pair_is_text(seed):
    seed["interactions"][0]["summary"] = json.loads('"BP fine \\ud83d\\udc4d"')
    assert policyengine.evaluate(seed)["billable"]


# --- keys ----------------------------------------------------------------------------------------


def test_duplicate_keys_in_json_name_the_object():
    text = ('{"patient_id": "PT-1", "month": "2026-03", "patient_id": "PT-2", "interactions": '
            '[{"id": "a", "id": "b"}]}')
    errors = from_text(text)
    assert where_and_code(errors) == [("/", "facts.duplicate_key"), ("/interactions/0", "facts.duplicate_key")]
    assert errors[0].message == "the key 'patient_id' is given more than once in this object"


def test_duplicate_keys_in_yaml_name_the_line_and_column():
    errors = from_text("patient_id: PT-1\nmonth: 2026-03\nconsent: {obtained: true, obtained: false}\n", "facts.yaml")
    assert where_and_code(errors) == [("facts.yaml:3:27", "facts.duplicate_key")]
    assert "(first at line 3, column 11)" in errors[0].message
    errors = from_text("patient_id: PT-1\nmonth: 2026-03\npatient_id: PT-2\n", "facts.yaml")
    assert where_and_code(errors) == [("facts.yaml:3:1", "facts.duplicate_key")]


def test_duplicate_keys_in_a_batch_line():
    (error,) = refusal(parse_facts_line, b'{"patient_id": "PT-1", "month": "2026-03", "month": "2026-04"}\n')
    assert (error.location, error.code) == ("/", "facts.duplicate_key")


def test_keys_of_python_data_must_be_strings():
    (error,) = refusal(policyengine.evaluate, {"patient_id": "PT-1", "month": "2026-03", 7: "seven"})
    assert (error.location, error.code, error.message) == ("/", "facts.bad_key", "a key must be a string, not int")


@pytest.mark.parametrize("facts, code", [(10**5000, "facts.integer_too_large"), ("\ud800", "facts.bad_unicode")],
                         ids=["integer", "surrogate"])
def test_python_data_that_is_not_even_an_object(facts, code):
    (error,) = refusal(policyengine.evaluate, facts)
    assert (error.location, error.code) == ("/", code)


def test_a_big_month_is_measured_for_depth_and_decided(seed):
    seed["interactions"] = [dict(seed["interactions"][0], id=f"IX-{n}") for n in range(40)]
    seed["x_extra"] = nested(MAX_DEPTH - 1)
    assert policyengine.evaluate(seed)["billable"]
    seed["x_extra"] = nested(MAX_DEPTH)
    assert where_and_code(refusal(policyengine.evaluate, seed)) == [(DEEP_POINTER, "facts.too_deep")]


@pytest.mark.parametrize("number", ["NaN", "sNaN", "-Infinity"])
def test_a_decimal_that_is_not_a_finite_number(seed, number):
    seed["other_services"] = [{"code": "99490", "duration_seconds": Decimal(number)}]
    seed["x_extra"] = [Decimal(number)]
    assert where_and_code(refusal(policyengine.evaluate, seed)) == [
        ("/other_services/0/duration_seconds", "facts.not_a_number"), ("/x_extra/0", "facts.not_a_number")]


@pytest.mark.parametrize("number", [float("nan"), float("inf"), float("-inf")])
def test_a_float_that_is_not_a_finite_number_from_the_python_api(seed, number):
    """orjson writes a float NaN as null: the Python API would have decided it unseen."""
    seed["x_extra"] = {"readings": [1.5, number]}
    assert where_and_code(refusal(policyengine.evaluate, seed)) == [("/x_extra/readings/1", "facts.not_a_number")]
    seed["x_extra"] = {"readings": [1.5, None]}  # a null is no number problem
    assert policyengine.evaluate(seed)["billable"]


def test_python_data_that_cannot_be_written_as_json():
    class Unprintable:
        def __str__(self) -> str:
            raise TypeError("no text")

    (error,) = refusal(policyengine.evaluate, {"patient_id": "PT-1", "month": "2026-03", "x_extra": Unprintable()})
    assert (error.location, error.code) == ("/", "facts.not_json")


# --- YAML aliases ------------------------------------------------------------------------------


def billion_laughs(levels: int) -> str:
    lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for previous, name in zip("abcdefghij", "bcdefghijk"[: levels - 1]):
        lines.append(f"{name}: &{name} [" + ",".join([f"*{previous}"] * 9) + "]")
    return "\n".join(lines) + "\n"


def test_a_yaml_alias_bomb_is_refused_at_once():
    text = "patient_id: PT-1\nmonth: 2026-03\n" + billion_laughs(9)
    assert len(text) < 400
    started = time.process_time()
    errors = from_text(text, "facts.yaml")
    assert time.process_time() - started < 0.5
    assert where_and_code(errors) == [("facts.yaml:4:8", "facts.yaml_alias")]
    assert errors[0].message == "an alias (*a) repeats a value; facts have none"


def test_any_yaml_alias_is_refused_in_facts():
    text = "patient_id: PT-1\nmonth: 2026-03\nas_of: &end 2026-03-31\nepisode: {start: *end}\n"
    assert where_and_code(from_text(text, "facts.yaml")) == [("facts.yaml:4:18", "facts.yaml_alias")]


# --- size ----------------------------------------------------------------------------------------


def test_a_document_beyond_the_size_limit():
    text = BASE % json.dumps("é" * (MAX_FACTS_BYTES // 2))  # fewer characters than bytes
    (error,) = refusal(parse_facts_text, text, "big.json")
    assert (error.location, error.code) == ("big.json", "facts.too_large")
    assert f"at most {MAX_FACTS_BYTES:,}" in error.message


def test_a_batch_line_beyond_the_size_limit():
    (error,) = refusal(parse_facts_line, b"x" * (MAX_FACTS_BYTES + 1) + b"\r\n")
    assert error.code == "facts.too_large"
    with pytest.raises(DiagnosticError, match="not valid JSON"):  # at the limit it is read
        parse_facts_line(b"x" * MAX_FACTS_BYTES + b"\r\n")


# --- magnitudes and as_of ------------------------------------------------------------------


@pytest.mark.parametrize("at, limit", [
    (("interactions", 0, "duration_seconds"), limits.SECONDS_PER_DAY),
    (("activities", 0, "duration_seconds"), limits.SECONDS_PER_DAY),
    (("other_services", 0, "duration_seconds"), limits.SECONDS_PER_LONGEST_MONTH),
    (("claims", 0, "units"), limits.MAX_UNITS),
])
def test_implausible_magnitudes_are_refused(seed, at, limit):
    seed["activities"] = [{"id": "AC-1", "date": "2026-03-10", "kind": "data_review", "duration_seconds": 60,
                           "program": "rpm"}]
    seed["other_services"] = [{"code": "99490", "duration_seconds": 1200}]
    seed["claims"] = [{"code": "99457", "units": 1}]
    parent: Any = seed
    for step in at[:-1]:
        parent = parent[step]
    parent[at[-1]] = limit
    policyengine.evaluate(seed)
    parent[at[-1]] = limit + 1
    (error,) = refusal(policyengine.evaluate, seed)
    assert (error.location, error.code) == ("/" + "/".join(map(str, at)), "facts.out_of_range")
    assert f"must be at most {limit}" in error.message


def test_a_billion_billion_seconds_is_not_billed(seed):
    seed["interactions"][0]["duration_seconds"] = 10**18
    (error,) = refusal(policyengine.evaluate, seed)
    assert error.location == "/interactions/0/duration_seconds"


def test_as_of_before_the_month_is_an_error(seed):
    seed["as_of"] = "2026-02-28"
    (error,) = refusal(check_facts, seed)
    assert (error.location, error.code) == ("/as_of", "facts.as_of_before_month")
    assert error.message.startswith("as_of 2026-02-28 is before the month 2026-03 begins")


@pytest.mark.parametrize("as_of", ["2026-03-01", "2026-03-31", "2026-04-15", "2027-01-01"])
def test_as_of_from_the_first_day_of_the_month_on_is_valid(seed, as_of):
    seed["as_of"] = as_of
    assert check_facts(seed).warnings == ()


# --- the command line --------------------------------------------------------------------------


@pytest.mark.parametrize("text, where, code", [
    ('{"patient_id": "PT-1", "month": "2026-03", "month": "2026-04"}', "/", "facts.duplicate_key"),
    (BASE % ("[" * 20_000 + "]" * 20_000), DEEP_POINTER, "facts.too_deep"),
    (BASE % (2**64), "/x_extra", "facts.integer_too_large"),
    (BASE % ("1" * 5000), "/x_extra", "facts.integer_too_large"),
    (BASE % '"\\udabc"', "/x_extra", "facts.bad_unicode"),
])
def test_evaluate_and_verify_exit_2_naming_where(tmp_path, text, where, code):
    path = tmp_path / "facts.json"
    path.write_text(text)
    decision = tmp_path / "decision.json"
    decision.write_text(policyengine.to_json(policyengine.evaluate(json.loads(SEED.read_text()))))
    for arguments in (["evaluate", str(path)], ["evaluate", "-"], ["verify", str(decision), str(path)]):
        result = CliRunner().invoke(main, arguments, input=text)
        assert result.exit_code == 2, (arguments, result.output)
        assert f"{where}: " in result.stderr and f"[{code}]" in result.stderr, result.stderr
        assert "Traceback" not in result.output


def test_evaluate_refuses_a_yaml_alias_bomb(tmp_path):
    path = tmp_path / "facts.yaml"
    path.write_text("patient_id: PT-1\nmonth: 2026-03\n" + billion_laughs(9))
    result = CliRunner().invoke(main, ["evaluate", str(path)])
    assert result.exit_code == 2
    assert f"{path}:4:8: an alias (*a) repeats a value; facts have none [facts.yaml_alias]" in result.stderr


def policyengine_command(*arguments: str) -> str:
    """A shell command running policyengine with this interpreter, arguments quoted."""
    import shlex
    import sys
    return shlex.join([sys.executable, "-c", "from policyengine.cli import main; main()", *arguments])


@pytest.mark.parametrize("arguments", [["evaluate", "-"], ["batch", "-", "--out", "OUT"], ["explain", "-"]])
def test_closed_standard_input_is_a_usage_error(tmp_path, arguments):
    import subprocess
    out = tmp_path / "out.jsonl"
    command = policyengine_command(*[str(out) if a == "OUT" else a for a in arguments])
    result = subprocess.run(["sh", "-c", command + " 0<&-"], capture_output=True, text=True, timeout=60)
    assert result.returncode == 2, result.stderr
    assert "standard input is closed" in result.stderr and "Traceback" not in result.stderr
    assert not out.exists()


def test_standard_input_that_is_not_utf8_is_a_usage_error():
    result = CliRunner().invoke(main, ["evaluate", "-"], input=b'{"patient_id": "caf\xe9"}')
    assert result.exit_code == 2
    assert "cannot read <stdin>" in result.stderr and "decode byte 0xe9" in result.stderr


# --- documents of a megabyte: explained in bounded time and size -------------------------


def test_a_repeated_transmission_day_is_found_in_one_pass(seed):
    seed["monitoring_period"] = {"start": "2026-03-01", "end": "2026-03-30"}
    seed["transmission_days"] = [f"2026-03-{d:02d}" for d in range(1, 31)] + ["2026-03-30"]
    (error,) = refusal(check_facts, seed)
    assert error.message == "the string '2026-03-30' is listed twice: /transmission_days/29 and /transmission_days/30"


@pytest.mark.parametrize("items", [
    [f"{1000 + n // 365:04d}-01-01" for n in range(70_000)],  # dates, mostly repeated
    [n if n % 2 else f"s{n}" for n in range(100_000)],  # numbers and strings: they do not sort
], ids=["dates", "mixed"])
def test_a_megabyte_of_transmission_days_is_refused_at_once(seed, items):
    seed["transmission_days"] = items
    started = time.process_time()
    errors = refusal(check_facts, seed)
    assert time.process_time() - started < 1
    assert ("/transmission_days", "facts.bad_size") in where_and_code(errors)
    assert f"a list of {len(items):,} items: at most {limits.MAX_TRANSMISSION_DAYS} are allowed" in [
        e.message for e in errors]


def test_at_most_so_many_problems_are_reported_and_the_last_says_so(seed):
    seed["interactions"] = list(range(100_000))
    started = time.process_time()
    errors = refusal(check_facts, seed)
    assert time.process_time() - started < 1
    assert len(errors) == limits.MAX_DIAGNOSTICS
    assert errors[-1].notes == (f"note: the first {limits.MAX_DIAGNOSTICS} problems are reported; there may be more",)


def test_unknown_keys_beyond_the_limit_hide_no_error(seed):
    for n in range(150):
        seed[f"x_{n:03d}"] = n
    seed["interactions"][1]["two_way"] = "yes"
    errors = refusal(check_facts, seed)
    assert [(e.location, e.code) for e in errors] == [("/interactions/1/two_way", "facts.wrong_type")]
    del seed["interactions"][1]["two_way"]
    seed["interactions"][1]["two_way"] = True
    findings = [f for f in policyengine.evaluate(seed)["findings"] if f["id"] == "facts.unknown_field"]
    assert len(findings) == limits.MAX_DIAGNOSTICS


@pytest.mark.parametrize("change", ["outside_month", "surrogates"])
def test_every_check_reports_at_most_so_many_problems(seed, change):
    item = seed["interactions"][0]
    if change == "outside_month":
        seed["interactions"] = [dict(item, id=f"IX-{n}", date="2026-04-01") for n in range(250)]
    else:
        seed["interactions"] = [dict(item, id=f"IX-{n}", summary="\ud800") for n in range(250)]
    errors = refusal(policyengine.evaluate, seed)
    assert len(errors) == limits.MAX_DIAGNOSTICS and errors[-1].notes


def test_a_decision_given_as_facts_is_refused_as_what_it_is(seed, tmp_path):
    """A decision holds the facts' patient_id and month: read as facts it was decided as an
    empty month ($0.00, exit 0). It is refused, by the API, `evaluate` and a batch, whose
    other lines are still decided."""
    decision = policyengine.evaluate(seed, trace="none")
    [error] = refusal(policyengine.evaluate, decision)
    assert error.code == "facts.is_a_decision" and "billable" in error.message and "not_billable" in error.message
    path = tmp_path / "decision.json"
    path.write_text(policyengine.to_json(decision))
    result = CliRunner().invoke(main, ["evaluate", str(path)])
    assert result.exit_code == 2 and "this is a decision" in result.stderr and "Traceback" not in result.output
    lines = (policyengine.to_json(decision, pretty=False) + json.dumps(seed) + "\n").encode()
    out = io.StringIO()
    summary = run_batch(io.BytesIO(lines), out, trace="none")
    records = [json.loads(line) for line in out.getvalue().splitlines()]
    assert records[0]["error"]["code"] == "facts.is_a_decision" and records[1]["total"] == decision["total"]
    assert (summary.records, summary.errors) == (2, 1)


def test_facts_with_a_stray_decision_key_are_still_facts(seed):
    seed["total"] = "1.00"  # one of a decision's keys: an unknown field of facts, warned about
    decision = policyengine.evaluate(seed, trace="none")
    assert any(f["id"] == "facts.unknown_field" and f["evidence"] == ["/total"] for f in decision["findings"])


@pytest.mark.parametrize("text,code,where", [
    ('{"patient_id": "P", "month": "2026-03", "x_extra": NaN}', "facts.not_a_number", "/x_extra"),
    ('{"patient_id": "P", "month": "2026-03", "x_extra": [1, -Infinity]}', "facts.not_a_number", "/x_extra/1"),
    ('{"patient_id": "P", "month": "2026-03", "x_extra": 1e400}', "facts.number_too_large", "/x_extra"),
    ('{"patient_id": "P", "month": "2026-03", "x_extra": -2e308}', "facts.number_too_large", "/x_extra"),
    ('patient_id: P\nmonth: "2026-03"\nx_extra: .nan\n', "facts.not_a_number", "/x_extra"),
    ('patient_id: P\nmonth: "2026-03"\nx_extra: -.inf\n', "facts.not_a_number", "/x_extra"),
])
def test_a_number_json_has_not_or_a_double_cannot_hold_is_refused_where_it_is(text, code, where):
    """Python's parser reads NaN and Infinity, which are not JSON, and YAML has .nan and
    .inf; a number beyond a double is lost by most systems that read the facts. Each was
    accepted in a field the schema does not know (with only an unknown-field warning)."""
    [error] = from_text(text, "facts.yaml" if text.startswith("patient_id:") else "facts.json")
    assert (error.code, error.where) == (code, where)


def test_a_large_number_a_double_holds_is_still_facts():
    text = '{"patient_id": "P", "month": "2026-03", "x_extra": 1.7e308}'
    assert check_facts(parse_facts_text(text, "facts.json")).warnings
