"""Full FHIR validation of each resource, with `fhir.resources` (the `fhir` extra).

The mapping reads the elements it needs and checks those itself, which is what lets a
bulk export of millions of Observations be read fast (about 53 us a resource for the
whole ingest against about 480 us to build its model: benchmarks/fhir_bench.py).
`--validate` adds the whole resource's conformance, for a feed being onboarded or a
sample of one: a resource that does not conform is refused, each error at its element.
fhir.resources ships R4B, the technical correction of R4; the resources the mapping reads
have the same elements in both.
"""
from __future__ import annotations

from ..pointers import pointer
from .grouping import Validator
from .problems import Problem, inside
from .read import Located
from .references import key_of


def fhir_validator() -> Validator:
    """The validator; ImportError when the `fhir` extra is not installed."""
    from fhir.resources.R4B import get_fhir_model_class
    from pydantic import ValidationError

    def validate(item: Located) -> list[Problem]:
        kind = item.resource["resourceType"]
        reference = key_of(item.resource)
        try:
            model = get_fhir_model_class(kind)
        except ValueError:
            return [Problem(item.location, "error", "fhir.invalid", f"{kind} is not an R4 resource type", reference)]
        try:
            model.model_validate(item.resource)
        except ValidationError as error:
            return [Problem(inside(item.location, pointer(e["loc"])), "error", "fhir.invalid", e["msg"], reference)
                    for e in error.errors()]
        return []

    return validate
