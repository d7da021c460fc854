"""Exporting the log: one JSON line per decision (its summary, the decision and the facts)
or one CSV row (the summary, the total and the codes with their status).

Masking replaces each patient identifier, wherever it occurs (the patient column, the
facts, the decision), with a keyed hash: the same patient gets the same mask across
exports made with the same key, so an export can be analysed per patient and leave the
covered entity, while nobody without the key can tell whose months they are.
"""
from __future__ import annotations

import csv
import hashlib
import hmac
import io
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from .store import LoggedDecision

CSV_FIELDS = ("seq", "id", "time", "caller", "patient_id", "month", "practitioner", "pack_id", "pack_version",
              "pack_sha256", "total", "lines", "decision_sha256", "row_hash")
MASK_KEY_VARIABLE = "POLICYENGINE_MASK_KEY"


@dataclass(frozen=True)
class Mask:
    """Patient identifiers replaced by `pt-` and 16 hex digits of an HMAC under `secret`."""

    secret: bytes

    def patient(self, patient_id: str) -> str:
        return "pt-" + hmac.new(self.secret, patient_id.encode("utf-8"), hashlib.sha256).hexdigest()[:16]

    def row(self, row: LoggedDecision) -> dict[str, str]:
        """The texts of `row` that name the patient, with the patient masked."""
        masked = self.patient(row.patient_id)
        escaped = json.dumps(row.patient_id, ensure_ascii=False)[1:-1]

        def hide(text: str) -> str:
            if not row.patient_id:
                return text
            return text.replace(row.patient_id, masked).replace(escaped, masked)

        return {"patient_id": masked, "facts": hide(row.facts), "decision": hide(row.decision)}


def _texts(row: LoggedDecision, mask: Mask | None) -> dict[str, str]:
    return mask.row(row) if mask is not None else {"patient_id": row.patient_id, "facts": row.facts,
                                                   "decision": row.decision}


def as_json_lines(rows: Iterable[LoggedDecision], mask: Mask | None = None) -> Iterator[str]:
    for row in rows:
        texts = _texts(row, mask)
        yield json.dumps({**row.summary(), "patient_id": texts["patient_id"], "decision": json.loads(texts["decision"]),
                          "facts": texts["facts"]}, ensure_ascii=False, sort_keys=True)


def as_csv(rows: Iterable[LoggedDecision], mask: Mask | None = None) -> Iterator[str]:
    """The header, then a row per decision (each item one CSV record with its line end)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")

    def flushed() -> str:
        text = out.getvalue()
        out.seek(0)
        out.truncate()
        return text

    writer.writerow(CSV_FIELDS)
    yield flushed()
    for row in rows:
        texts = _texts(row, mask)
        total = json.loads(row.decision).get("total", "")
        values = {**row.summary(), "patient_id": texts["patient_id"], "pack_id": row.pack_id,
                  "pack_version": row.pack_version, "pack_sha256": row.pack_sha256, "total": total,
                  "lines": row.lines.strip()}
        writer.writerow([values[name] for name in CSV_FIELDS])
        yield flushed()
