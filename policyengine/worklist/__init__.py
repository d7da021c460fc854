"""The daily worklist: money still to earn this month across a practice, and what it takes
(`policyengine worklist`, `POST /v1/worklist`). Each patient-month is decided as of one
date; its work is read from the decision (`work.py`), gathered into the practice's sheet
(`sheet.py`) and written in the view asked for (`views.py`)."""
from __future__ import annotations

from .fhir import worklist_of_fhir
from .run import worklist_of_lines
from .sheet import Sheet

__all__ = ["Sheet", "worklist_of_fhir", "worklist_of_lines"]
