"""A pack's own test cases and the coverage they reach (`policyengine test PACK`)."""
from .cases import CaseResult, load_cases, run_case
from .coverage import Coverage, CoverageTracer
from .runner import TestReport, test_pack

__all__ = ["CaseResult", "Coverage", "CoverageTracer", "TestReport", "load_cases", "run_case", "test_pack"]
