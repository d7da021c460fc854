"""`policyengine test PACK`: every case beside the pack, and the coverage they reach."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ..packs.places import resolve_pack_dir
from ..packs.model import CompiledPack
from .cases import CaseResult, load_cases, run_case
from .coverage import Coverage, CoverageTracer, OwnConditions

CASES_DIR = "tests"


@dataclass(frozen=True)
class TestReport:
    pack: CompiledPack
    results: tuple[CaseResult, ...]
    coverage: Coverage
    threshold: float
    #: whether the coverage counts the whole pack, or only what the pack itself says
    whole_pack: bool

    __test__ = False  # not a pytest class

    @property
    def failed(self) -> list[CaseResult]:
        return [r for r in self.results if not r.passed]

    @property
    def ok(self) -> bool:
        return not self.failed and self.coverage.percent >= self.threshold

    def _counted(self) -> str:
        """What the coverage counted, when that is not the whole pack."""
        if self.whole_pack or len(self.pack.chain) == 1:
            return ""
        parents = " and ".join(f"{parent}'s" for parent in self.pack.chain[1:])
        return (f"; the conditions {self.pack.id} writes or whose parameters it sets "
                f"(--whole-pack counts {parents} too)")

    def render(self) -> str:
        lines = []
        for result in self.failed:
            lines.append(f"FAIL {result.case.location}: {result.case.name}")
            lines.extend(f"  {failure}" for failure in result.failures)
        cov = self.coverage
        lines.append(f"{self.pack.id}: {len(self.results)} cases, {len(self.results) - len(self.failed)} passed, "
                     f"{len(self.failed)} failed")
        lines.append(f"coverage: {cov.covered}/{cov.total} condition outcomes ({cov.percent:.1f}%), "
                     f"threshold {self.threshold:g}%{self._counted()}")
        lines.extend(f"  {gap}" for gap in cov.gaps())
        return "\n".join(lines) + "\n"


def case_files(pack_ref: str | Path) -> list[Path]:
    return sorted((resolve_pack_dir(pack_ref) / CASES_DIR).glob("*.yaml"))


def test_pack(pack: CompiledPack, pack_ref: str | Path, whole_pack: bool = False) -> TestReport:
    """Run every case file of the pack directory against the compiled pack. Coverage
    counts the conditions the pack itself says (`OwnConditions`), or with `whole_pack`
    every condition of the pack and the packs it extends."""
    coverage = Coverage(pack, None if whole_pack else OwnConditions.of(pack.directory))
    results = []
    for path in case_files(pack_ref):
        for case in load_cases(path):
            results.append(run_case(case, pack, lambda: CoverageTracer(pack, coverage)))
    return TestReport(pack, tuple(results), coverage, pack.coverage_threshold, whole_pack)


test_pack.__test__ = False  # type: ignore[attr-defined]
