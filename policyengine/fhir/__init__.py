"""FHIR R4 resources read into what the timeline needs (docs/fhir-mapping.md is the mapping).

`read.py` finds the resources in Bundles and NDJSON files, each with its location in the
input (`jsontext.py` checks the JSON text); `mapping.py` and `interactions.py` turn one
resource into one event (`events.py`: a reading, a device, a consent, an interaction, ...)
or a problem that says why it cannot be placed; `grouping.py` gathers
each patient's events, spilling to disk so that memory does not grow with the input;
`patient.py` joins one patient's events with the practitioners they name into a
`PatientRecord`. Nothing here knows about months or packs: that is `policyengine.timeline`.
"""
from __future__ import annotations

from .grouping import patients
from .patient import PatientRecord
from .problems import Problem

__all__ = ["PatientRecord", "Problem", "patients"]
