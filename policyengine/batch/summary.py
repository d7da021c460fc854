"""What a batch adds up: records, errors by code, billable units and dollars per code
(Decimal, never float), as a report and as the state a checkpoint keeps."""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal

from .records import ChunkResult

_ZERO = Decimal("0")


@dataclass
class BatchSummary:
    records: int = 0
    errors: int = 0
    error_codes: Counter = field(default_factory=Counter)
    units: Counter = field(default_factory=Counter)
    dollars: dict[str, Decimal] = field(default_factory=dict)
    first_errors: list[tuple[int, str]] = field(default_factory=list)
    seconds: float = 0.0
    workers: int = 1

    @property
    def decisions(self) -> int:
        return self.records - self.errors

    @property
    def total(self) -> Decimal:
        return sum(self.dollars.values(), _ZERO).quantize(Decimal("0.01"))

    @property
    def exit_status(self) -> int:
        """Contract v1 section 3: 1 when any record failed, 0 otherwise."""
        return 1 if self.errors else 0

    def add(self, chunk: ChunkResult) -> None:
        self.records += chunk.records
        self.errors += chunk.errors
        self.error_codes.update(chunk.error_codes)
        self.units.update(chunk.units)
        for code, amount in chunk.dollars.items():
            self.dollars[code] = self.dollars.get(code, _ZERO) + amount
        if len(self.first_errors) < 5:
            self.first_errors.extend(chunk.first_errors[: 5 - len(self.first_errors)])

    def state(self) -> dict:
        """Everything the summary has added up, as JSON data (a checkpoint keeps it)."""
        return {"records": self.records, "errors": self.errors, "error_codes": dict(self.error_codes),
                "units": dict(self.units), "dollars": {code: str(amount) for code, amount in self.dollars.items()},
                "first_errors": self.first_errors, "seconds": self.seconds}

    @classmethod
    def from_state(cls, state: dict) -> BatchSummary:
        return cls(records=state["records"], errors=state["errors"], error_codes=Counter(state["error_codes"]),
                   units=Counter(state["units"]), dollars={code: Decimal(a) for code, a in state["dollars"].items()},
                   first_errors=[(number, code) for number, code in state["first_errors"]], seconds=state["seconds"])

    def to_dict(self) -> dict:
        return {
            "records": self.records, "decisions": self.decisions, "errors": self.errors,
            "error_codes": dict(sorted(self.error_codes.items())),
            "billable": {code: {"units": self.units[code], "amount": str(self.dollars[code])}
                         for code in sorted(self.units)},
            "total": str(self.total), "seconds": round(self.seconds, 3), "workers": self.workers,
        }

    def render(self) -> str:
        rate = self.records / self.seconds if self.seconds > 0 else 0.0
        lines = [f"{self.records:,} records: {self.decisions:,} decisions, {self.errors:,} errors "
                 f"in {self.seconds:.1f} s ({rate:,.0f} records/s, {self.workers} worker{'s' if self.workers != 1 else ''})"]
        for code, count in sorted(self.error_codes.items(), key=lambda item: (-item[1], item[0])):
            lines.append(f"  error {code}: {count:,}")
        if self.first_errors:
            lines.append("  first errors at lines " + ", ".join(f"{n} ({c})" for n, c in self.first_errors))
        if self.units:
            lines.append("billable:")
            width = max(len(f"{amount:,}") for amount in self.dollars.values())
            for code in sorted(self.units):
                lines.append(f"  {code}  {self.units[code]:>10,} units  ${self.dollars[code]:>{width},}")
        lines.append(f"total billable: ${self.total:,}")
        return "\n".join(lines)
