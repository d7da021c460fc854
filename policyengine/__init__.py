"""policyengine: a declarative, explainable policy engine for Medicare RPM billing.

    from policyengine import evaluate, load_pack
    decision = evaluate(facts)                      # the bundled pack for the facts' month
    decision = evaluate(facts, "path/to/pack", options={"an_option": "a value"})
"""

from .api import evaluate, to_json
from .diagnostics import Diagnostic, DiagnosticError
from .packs import compile_pack, load_pack, pack_for_month
from .version import __version__

__all__ = ["Diagnostic", "DiagnosticError", "__version__", "compile_pack", "evaluate", "load_pack",
           "pack_for_month", "to_json"]
