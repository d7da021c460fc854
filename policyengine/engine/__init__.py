"""The evaluator: patient-month facts and a compiled pack in, a decision out."""
from .decide import decide
from .options import resolve_options

__all__ = ["decide", "resolve_options"]
