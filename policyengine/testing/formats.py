"""A pack test report for tools: JSON, and JUnit XML, which CI systems show as test results.

Each case is one test case, named by its `name` and classed by its pack and case file; a
failing case carries its failures. Condition coverage is one more test case, failing when
it is below the pack's threshold, with the conditions never seen each way.
"""
from __future__ import annotations

from pathlib import Path
from xml.etree import ElementTree

from .cases import CaseResult
from .runner import TestReport


def report_json(report: TestReport) -> dict:
    cov = report.coverage
    return {
        "pack": {"id": report.pack.id, "version": report.pack.version, "sha256": report.pack.sha256},
        "ok": report.ok,
        "cases": [{"name": r.case.name, "location": r.case.location, "passed": r.passed, "failures": list(r.failures)}
                  for r in report.results],
        "passed": len(report.results) - len(report.failed),
        "failed": len(report.failed),
        "coverage": {"covered": cov.covered, "total": cov.total, "percent": round(cov.percent, 1),
                     "threshold": report.threshold, "whole_pack": report.whole_pack, "gaps": cov.gaps()},
    }


def report_junit(report: TestReport) -> str:
    pack = report.pack
    coverage_failed = report.coverage.percent < report.threshold
    failures = len(report.failed) + coverage_failed
    suites = ElementTree.Element("testsuites", name=f"policyengine test {pack.id}", tests=str(len(report.results) + 1),
                                failures=str(failures))
    suite = ElementTree.SubElement(suites, "testsuite", name=pack.id, tests=str(len(report.results) + 1),
                                   failures=str(failures))
    for result in report.results:
        _case(suite, pack.id, result)
    cov = report.coverage
    coverage = ElementTree.SubElement(suite, "testcase", classname=pack.id, name="condition coverage")
    if coverage_failed:
        failure = ElementTree.SubElement(coverage, "failure", message=f"{cov.percent:.1f}% of condition outcomes, "
                                         f"below the threshold of {report.threshold:g}%")
        failure.text = "\n".join(cov.gaps())
    ElementTree.indent(suites)
    return '<?xml version="1.0" encoding="utf-8"?>\n' + ElementTree.tostring(suites, encoding="unicode") + "\n"


def _case(suite: ElementTree.Element, pack_id: str, result: CaseResult) -> None:
    case = result.case
    span = case.doc.span(case.pointer)
    attributes = {"classname": f"{pack_id}.{Path(case.doc.source.name).stem}", "name": case.name,
                  "file": case.doc.source.name}
    if span is not None:
        attributes["line"] = str(span.line)
    element = ElementTree.SubElement(suite, "testcase", attributes)
    if result.failures:
        failure = ElementTree.SubElement(element, "failure", message=result.failures[0])
        failure.text = "\n".join(result.failures)
