"""The evaluator: patient-month facts and a compiled pack in, a decision out."""
from .decide import decide
from .failures import EvaluationFailed
from .options import resolve_options

__all__ = ["EvaluationFailed", "decide", "resolve_options"]
