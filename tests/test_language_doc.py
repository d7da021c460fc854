"""docs/language.md is executable: its examples are checked against the language.

- every paragraph of a fenced block marked ```expr compiles (`expect=TYPE` in the info
  string: it must also give that type);
- every paragraph of a block marked ```expr-error fails to compile, with the codes named in
  the info string (```expr-error expr.unit_mismatch);
- every expression in a ```yaml block (values of `when`, `units`, `amount`) compiles, unless
  the next fenced block is ```text: then that block is exactly the rendered errors;
- every row of a `| expression | value |` table evaluates, on the doc's sample month (its
  ```json block) with the parameters and options of its tables, to the value shown;
- the doc names every error code, every function and the limits the language has.

A paragraph is a run of non-blank lines; its lines are joined with newlines, as in a YAML
block scalar kept with `|`, so a multi-line paragraph is one expression.
"""
from __future__ import annotations

import functools
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from policyengine.diagnostics import DiagnosticError
from policyengine.lang import (BOOL, DATE, DECIMAL, DURATION, INT, MONEY, STRING, EvaluationError, FieldSpec,
                               ListOf, Optional, Record, Type, compile_expression, format_seconds, record)
from conftest import FACTS, INTERACTION
from policyengine.lang import Environment, parser
from policyengine.lang.functions import FUNCTIONS
from policyengine.yamlsource import load_yaml

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "language.md"
LANG = ROOT / "policyengine" / "lang"

# --- the environment the examples are written against -------------------------------------
# (the facts are the language tests' fixture environment)

PARAMS = record("params", {  # named as in the bundled pack rulepacks/cms-rpm-2026
    "time_threshold": FieldSpec(DURATION, required=True),
    "short_time_threshold": FieldSpec(DURATION, required=True),
    "addon_block": FieldSpec(DURATION, required=True),
    "realtime_modalities": FieldSpec(ListOf(STRING), required=True),
    "full_supply_days": FieldSpec(INT, required=True),
    "rvu_99457": FieldSpec(DECIMAL, required=True),
    "rvu_99458": FieldSpec(DECIMAL, required=True),
    "conversion_factor": FieldSpec(MONEY, required=True),
})
OPTIONS = record("options", {
    "countable_time": FieldSpec(STRING, required=True),
    "messaging_counts": FieldSpec(BOOL, required=True),
    "ai_system_counts": FieldSpec(BOOL, required=True),
    "addon_max_units": FieldSpec(INT, required=True),
})
#: definitions the doc uses by name, with the expressions the doc gives for them (in order)
DEFINITIONS: dict[str, tuple[Type, str]] = {
    "countable": (ListOf(INTERACTION), "interactions where two_way and program == \"rpm\"\n"
                                       "  and modality in params.realtime_modalities\n"
                                       "  and not during_em_visit"),
    "rpm_time": (DURATION, "sum(countable.duration_seconds)"),
}
ENV = Environment(facts=FACTS, definitions={name: t for name, (t, _) in DEFINITIONS.items()},
                  namespaces={"params": PARAMS, "options": OPTIONS})
NAMESPACE_TYPES = {"params": PARAMS, "options": OPTIONS}
TYPES = {"bool": BOOL, "int": INT, "decimal": DECIMAL, "money": MONEY, "duration": DURATION, "date": DATE,
         "string": STRING}
#: keys whose values are expressions in a rule pack (schemas/rulepack.schema.json), besides definitions
EXPRESSION_KEYS = {"when", "units", "actual", "required", "evidence", "rvu", "conversion_factor"}

# --- reading the doc -------------------------------------------------------------------------


@dataclass(frozen=True)
class Block:
    info: str
    text: str
    line: int  # 1-based line of the block's first content line

    @property
    def kind(self) -> str:
        return self.info.split()[0] if self.info else ""

    @property
    def words(self) -> list[str]:
        return self.info.split()[1:]


def doc_text() -> str:
    return DOC.read_text(encoding="utf-8")


def fenced_blocks(text: str) -> list[Block]:
    blocks, lines, i = [], text.split("\n"), 0
    while i < len(lines):
        opening = re.match(r"^(`{3,})(.*)$", lines[i])
        if opening is None:
            i += 1
            continue
        fence, info, start = opening.group(1), opening.group(2).strip(), i + 1
        i += 1
        while i < len(lines) and not lines[i].startswith(fence):
            i += 1
        if i >= len(lines):
            raise AssertionError(f"docs/language.md:{start}: fenced block never closed")
        blocks.append(Block(info, "\n".join(lines[start:i]), start + 1))
        i += 1
    return blocks


def paragraphs(block: Block) -> list[tuple[int, str]]:
    """(line, text) of each run of non-blank lines."""
    found, current, first = [], [], 0
    for offset, line in enumerate(block.text.split("\n") + [""]):
        if line.strip():
            if not current:
                first = block.line + offset
            current.append(line)
        elif current:
            found.append((first, "\n".join(current)))
            current = []
    return found


def tables(text: str, header: tuple[str, ...]) -> list[tuple[int, list[str]]]:
    """(line, cells) of every row of every table whose header starts with `header`."""
    rows, lines, i = [], text.split("\n"), 0
    while i < len(lines):
        cells = _cells(lines[i])
        if cells is not None and tuple(c.lower() for c in cells[:len(header)]) == header:
            i += 2  # the header and the |---| line
            while i < len(lines) and lines[i].startswith("|"):
                rows.append((i + 1, _cells(lines[i]) or []))
                i += 1
        else:
            i += 1
    return rows


def _cells(line: str) -> list[str] | None:
    if not line.startswith("|"):
        return None
    return [cell.strip() for cell in re.split(r"(?<!\\)\|", line.strip())[1:-1]]


def code(cell: str) -> str:
    match = re.fullmatch(r"`([^`]+)`", cell)
    assert match, f"expected one `code` span, got {cell!r}"
    return match.group(1)


TEXT = doc_text()
BLOCKS = fenced_blocks(TEXT)


def _examples(kind: str) -> list[Any]:
    return [pytest.param(block, line, para, id=f"line-{line}")
            for block in BLOCKS if block.kind == kind for line, para in paragraphs(block)]


# --- the sample month and the values shown ------------------------------------------------------


def _literal(text: str) -> Any:
    return compile_expression(text, Environment(facts=record("none", {}))).evaluate({}, {})


def sample_facts() -> dict:
    (block,) = [b for b in BLOCKS if b.kind == "json"]
    return json.loads(block.text)


def namespace_values(name: str) -> dict[str, Any]:
    """A namespace's values from the doc's `| params.x | type | value |` table."""
    values = {}
    for _, cells in tables(TEXT, (name,)):
        member = code(cells[0])
        assert member.startswith(name + "."), cells
        values[member[len(name) + 1:]] = _literal(code(cells[2]))
    return values


@functools.cache
def evaluation_inputs() -> tuple[dict, dict, dict, dict]:
    """The sample month, its definitions' values, and the params and options (shared: the
    language never changes its inputs)."""
    facts = sample_facts()
    params, options = namespace_values("params"), namespace_values("options")
    defs: dict[str, Any] = {}
    for name, (_, text) in DEFINITIONS.items():
        defs[name] = compile_expression(text, ENV).evaluate(facts, defs, params, options)
    return facts, defs, params, options


def show(value: Any, t: Type) -> str:
    """A value as the doc writes it: as a literal of its type."""
    if isinstance(t, Optional):
        return "missing" if value is None else show(value, t.inner)
    if isinstance(t, ListOf):
        return "[" + ", ".join(show(v, t.item) for v in value) + "]"
    if isinstance(t, Record):
        return "{" + ", ".join(f"{k}: {show(value.get(k), spec.type)}" for k, spec in t.fields if k in value) + "}"
    if t == BOOL:
        return "true" if value else "false"
    if t == DURATION:
        return format_seconds(value)
    if t == MONEY:
        return f"${value}"
    if t == STRING:
        return json.dumps(value)
    return str(value)


def _value_rows() -> list[Any]:
    return [pytest.param(code(cells[0]), cells[1], id=f"line-{line}")
            for line, cells in tables(TEXT, ("expression", "value"))]


# --- tests ---------------------------------------------------------------------------------------


def test_the_doc_has_examples_of_each_kind() -> None:
    assert len(_examples("expr")) >= 15
    assert len(_examples("expr-error")) >= 30
    assert len(_value_rows()) >= 30


@pytest.mark.parametrize("block, line, text", _examples("expr"))
def test_expr_example_compiles(block: Block, line: int, text: str) -> None:
    expect = next((TYPES[w[7:]] for w in block.words if w.startswith("expect=")), None)
    try:
        compiled = compile_expression(text, ENV, expect)
    except DiagnosticError as error:
        pytest.fail(f"docs/language.md:{line}: example does not compile:\n{error}")
    assert compiled.evaluate is not None


@pytest.mark.parametrize("block, line, text", _examples("expr-error"))
def test_error_example_fails(block: Block, line: int, text: str) -> None:
    expect = next((TYPES[w[7:]] for w in block.words if w.startswith("expect=")), None)
    wanted = {w for w in block.words if not w.startswith("expect=")}
    with pytest.raises(DiagnosticError) as excinfo:
        compile_expression(text, ENV, expect)
    codes = {d.code for d in excinfo.value.diagnostics}
    assert wanted <= codes, f"docs/language.md:{line}: expected {sorted(wanted)}, got:\n{excinfo.value}"


def _yaml_cases() -> list[Any]:
    cases = []
    for i, block in enumerate(BLOCKS):
        if block.kind == "yaml":
            following = BLOCKS[i + 1] if i + 1 < len(BLOCKS) else None
            rendered = following.text if following is not None and following.kind == "text" else None
            cases.append(pytest.param(block, rendered, id=f"line-{block.line}"))
    return cases


def _expressions(data: Any, pointer: str = "") -> list[str]:
    """JSON pointers of the expression values in a YAML example."""
    found = []
    if isinstance(data, dict):
        for key, value in data.items():
            if key == "definitions" and isinstance(value, dict):
                found.extend(f"{pointer}/{key}/{name}" for name in value)
            elif key in EXPRESSION_KEYS and isinstance(value, str):
                found.append(f"{pointer}/{key}")
            else:
                found.extend(_expressions(value, f"{pointer}/{key}"))
    elif isinstance(data, list):
        for i, value in enumerate(data):
            found.extend(_expressions(value, f"{pointer}/{i}"))
    return found


@pytest.mark.parametrize("block, rendered", _yaml_cases())
def test_yaml_example(block: Block, rendered: str | None) -> None:
    document = load_yaml(block.text, "rulepacks/2026/rpm.yaml")
    pointers = _expressions(document.data)
    assert pointers, f"docs/language.md:{block.line}: a YAML example without expressions"
    errors = []
    for pointer in pointers:
        expect = BOOL if pointer.endswith("/when") else INT if pointer.endswith("/units") else None
        if pointer.startswith("/definitions/"):  # the doc's definitions are the environment's
            expect = ENV.definitions[pointer.rsplit("/", 1)[1]]
        try:
            compile_expression(document.embedded(pointer), ENV, expect)
        except DiagnosticError as error:
            errors.append(str(error))
    if rendered is None:
        assert not errors, f"docs/language.md:{block.line}: " + "\n".join(errors)
    else:
        assert "\n".join(errors) == rendered


def test_the_definitions_used_are_the_ones_shown() -> None:
    """The definitions the value tables rely on are the ones the doc shows."""
    shown = {para for block in BLOCKS if block.kind == "expr" for _, para in paragraphs(block)}
    for name, (_, text) in DEFINITIONS.items():
        assert text in shown, f"definition {name} is not shown in the doc as:\n{text}"


@pytest.mark.parametrize("expression, shown", _value_rows())
def test_value_shown(expression: str, shown: str) -> None:
    facts, defs, params, options = evaluation_inputs()
    compiled = compile_expression(expression, ENV)
    error = re.fullmatch(r"error `(eval\.[a-z_]+)`", shown)
    if error:
        with pytest.raises(EvaluationError) as excinfo:
            compiled.evaluate(facts, defs, params, options)
        assert excinfo.value.code == error.group(1)
        return
    value = compiled.evaluate(facts, defs, params, options)
    assert show(value, compiled.type) == code(shown)
    # the tracing path and the recording interpreter agree with the fast path
    trace = compiled.trace(facts, defs, params, options)
    assert show(trace.result, compiled.type) == code(shown)
    assert show(trace.details().result, compiled.type) == code(shown)


@pytest.mark.parametrize("name", ["params", "options"])
def test_namespace_tables_match_the_environment(name: str) -> None:
    declared = NAMESPACE_TYPES[name]
    rows = tables(TEXT, (name,))
    assert [code(cells[0]) for _, cells in rows] == [f"{name}.{field}" for field in declared.field_names]
    for _, cells in rows:
        member = code(cells[0])[len(name) + 1:]
        assert cells[1] == str(declared.spec(member).type), cells  # type: ignore[union-attr]
        literal = compile_expression(code(cells[2]), Environment(facts=record("none", {})))
        assert str(literal.type) == cells[1], cells


def test_sample_month_has_the_declared_shape() -> None:
    facts = sample_facts()
    assert set(facts) <= set(FACTS.field_names)
    for item in facts["interactions"]:
        assert set(item) <= set(INTERACTION.field_names), item


def _codes_in_package(prefix: str) -> set[str]:
    source = "\n".join(path.read_text(encoding="utf-8") for path in LANG.glob("*.py"))
    return set(re.findall(rf'"({prefix}\.[a-z_]+)"', source))


@pytest.mark.parametrize("prefix", ["expr", "eval"])
def test_every_error_code_is_documented(prefix: str) -> None:
    in_package = _codes_in_package(prefix)
    documented = set(re.findall(rf"`({prefix}\.[a-z_]+)`", TEXT))
    assert in_package, prefix
    assert in_package - documented == set(), "undocumented codes"
    assert documented - in_package == set(), "the doc names codes the language does not have"


def test_every_function_is_documented() -> None:
    documented = {re.match(r"`([a-z_]+)\(", cells[0]).group(1)  # type: ignore[union-attr]
                  for _, cells in tables(TEXT, ("function",))}
    assert documented == set(FUNCTIONS)


def test_limits_are_the_parser_limits() -> None:
    assert f"{parser.MAX_LENGTH:,} characters" in TEXT
    assert f"{parser.MAX_DEPTH} levels" in TEXT


def test_an_error_example_spans_the_yaml_file() -> None:
    """The rendered example is from a YAML file, so it names the file's line and column."""
    assert any(b.kind == "text" and "rulepacks/2026/rpm.yaml:" in b.text for b in BLOCKS)
