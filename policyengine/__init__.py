"""policyengine: a declarative, explainable policy engine for Medicare RPM billing.

    from policyengine import evaluate, load_pack
    decision = evaluate(facts)                      # the bundled pack for the facts' month
    decision = evaluate(facts, "path/to/pack", options={"an_option": "a value"})
"""

__version__ = "0.1.0"

from .api import evaluate, to_json  # noqa: E402
from .diagnostics import Diagnostic, DiagnosticError  # noqa: E402
from .packs import compile_pack, load_pack, pack_for_month  # noqa: E402

__all__ = ["Diagnostic", "DiagnosticError", "__version__", "compile_pack", "evaluate", "load_pack",
           "pack_for_month", "to_json"]
