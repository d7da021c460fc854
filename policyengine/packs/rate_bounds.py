"""The rates a pack writes lie within bounds (`limits.py`): a code's RVU, on every date one
of the parameters it reads changes, and every amount the conversion factor reads; an
analyst's slip of a decimal point is an error at the value's line, not a wrong bill."""
from __future__ import annotations

from ..diagnostics import Diagnostic, Span
from ..lang import MONEY, CompiledExpression, EvaluationError
from ..lang.checker import NamespaceMember
from ..limits import MAX_CONVERSION_FACTOR, MAX_RVU
from .loader import SourcePack
from .model import Code, Parameter


def parameters_read(expression: CompiledExpression) -> tuple[str, ...]:
    """The `params.x` an expression reads, in order."""
    found = [ref.name for node in expression.nodes
             if isinstance(ref := expression.checked.resolution(node), NamespaceMember) and ref.namespace == "params"]
    return tuple(dict.fromkeys(found))


def _reads_only_params(expression: CompiledExpression) -> bool:
    """Whether an expression reads nothing but parameters (it has a value before any facts)."""
    refs = (expression.checked.resolution(node) for node in expression.nodes)
    return all(ref is None or (isinstance(ref, NamespaceMember) and ref.namespace == "params") for ref in refs)


def _value_span(source: SourcePack, expression: CompiledExpression, day: str) -> Span | None:
    """Where the dated value of `params.x` on `day` is written, for an expression that is just that."""
    ref = expression.checked.resolution(expression.checked.root)
    dated = source.parameter_values.get(ref.name, {}).get(day) if isinstance(ref, NamespaceMember) else None
    return dated.doc.span(f"{dated.pointer}/value") if dated is not None else None

def rate_problems(source: SourcePack, codes: dict[str, Code], cf: CompiledExpression | None,
              parameters: dict[str, Parameter]) -> list[Diagnostic]:
    """Each dated value a rate reads lies in bounds (`limits.py`): the RVU of a code
    that reads only parameters, on every date one of them changes, and every amount
    the conversion factor reads."""
    problems: list[Diagnostic] = []
    for code in codes.values():
        if not _reads_only_params(code.rvu):
            continue
        changes = {day for name in code.parameters_used if name in parameters for day, *_ in parameters[name].values}
        for day in sorted(changes):
            namespace = {n: dated[1] for n, p in parameters.items() if (dated := p.at(day)) is not None}
            try:
                rvu = code.rvu.evaluate({}, {}, namespace, {})
            except EvaluationError:
                continue  # a parameter not yet in force on that date: evaluation says so
            if not 0 <= rvu <= MAX_RVU:
                problems.append(Diagnostic(
                    "pack.bad_value", f"the RVU of {code.code} from {day} is {rvu}; an RVU is from 0 to {MAX_RVU}",
                    _value_span(source, code.rvu, day) or code.rvu.checked.root.span))
    for name in parameters_read(cf) if cf is not None else ():
        if parameters.get(name) is None or parameters[name].type != MONEY:
            continue
        for day, value, *_ in parameters[name].values:
            if not 0 < value <= MAX_CONVERSION_FACTOR:
                written = source.parameter_values[name][day]
                problems.append(Diagnostic(
                    "pack.bad_value", f"a conversion factor of ${value} per RVU is outside $0 to "
                    f"${MAX_CONVERSION_FACTOR}", written.doc.span(f"{written.pointer}/value")))
    return problems
