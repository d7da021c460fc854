"""Policy options: the pack's declared defaults, overridden per call (contract section 4)."""
from __future__ import annotations

from typing import Any

from ..diagnostics import Diagnostic, DiagnosticError, suggestion_suffix
from ..packs.model import CompiledPack, Option


def _coerce(raw: Any, option: Option) -> Any:
    """A value of the option's type, from a Python value or command-line text; None if impossible."""
    if isinstance(raw, str) and option.type != "string":
        text = raw.strip().lower()
        if option.type == "bool":
            return {"true": True, "false": False}.get(text)
        return int(text) if text.isdigit() and len(text) < 10 else None  # a count, not a 5,000-digit number
    if option.type == "bool":
        return raw if isinstance(raw, bool) else None
    if option.type == "int":
        return raw if isinstance(raw, int) and not isinstance(raw, bool) else None
    return raw if isinstance(raw, str) else None


def _in_range(value: Any, option: Option) -> bool:
    if option.type != "int":
        return True
    return (option.minimum is None or value >= option.minimum) and (option.maximum is None or value <= option.maximum)


def _allowed(option: Option) -> str:
    if option.allowed:
        return "allowed: " + ", ".join(str(v).lower() if isinstance(v, bool) else str(v) for v in option.allowed)
    if option.minimum is not None or option.maximum is not None:
        low = option.minimum if option.minimum is not None else "..."
        high = option.maximum if option.maximum is not None else "..."
        return f"a whole number from {low} to {high}"
    return f"a {option.type} value"


def resolve_options(pack: CompiledPack, given: dict[str, Any] | None) -> dict[str, Any]:
    """Every option the pack declares, with `given` values applied; raises DiagnosticError
    naming each unknown option (with "did you mean") and each value it cannot take."""
    values = {name: option.default for name, option in pack.options.items()}
    problems = []
    for name, raw in (given or {}).items():
        option = pack.options.get(name)
        if option is None:
            problems.append(Diagnostic(
                "option.unknown", f"unknown option '{name}'{suggestion_suffix(name, pack.options)}",
                where=f"option {name}", hint=f"{pack.id} options: " + ", ".join(sorted(pack.options))))
            continue
        value = _coerce(raw, option)
        if value is None or (option.allowed and value not in option.allowed) or not _in_range(value, option):
            problems.append(Diagnostic("option.bad_value", f"option '{name}' cannot be {raw!r}", where=f"option {name}",
                                       hint=_allowed(option)))
            continue
        values[name] = value
    if problems:
        raise DiagnosticError(problems)
    return values
