"""Resource limits on input: every bound the project puts on what it reads, in one place.

Facts come from billing systems the project does not control, so each dimension in which
one record could cost unbounded time or memory has a limit here. Beyond a limit the input
is refused with a diagnostic that names where, never a traceback or a hang. The facts
schema's maxima and the README's "Limits" section state the same numbers (a test holds
them equal to these).
"""
from __future__ import annotations

from datetime import date
from decimal import Decimal

#: Containers (objects and lists) nested in one facts document, the document counted: the
#: facts need 4 (facts > interactions > an interaction > its performer); 64 leaves room for
#: any unknown key and stays far below the parsers' recursion limits.
MAX_DEPTH = 64

#: The integers facts may hold, anywhere: what fits in 64 bits, signed or unsigned (the
#: range of orjson, which writes the canonical facts hash; beyond it the hash cannot be made).
MIN_INT = -(2**63)
MAX_INT = 2**64 - 1

#: Bytes in one facts document: a file, standard input, or one batch line (its line end not
#: counted). A heavy month of a few hundred documented interactions is well under 200 KB.
MAX_FACTS_BYTES = 1 << 20

#: Bytes in the headers of one request to the service (names and values): HTTP servers
#: commonly refuse well below 64 KiB, and a billing system's headers are a few hundred bytes.
MAX_HEADER_BYTES = 16_384

#: Seconds in a day: an interaction or an activity is dated one day, so it lasts at most this.
SECONDS_PER_DAY = 86_400

#: Seconds in the longest month (31 days): the most time another service can count in a month.
SECONDS_PER_LONGEST_MONTH = 31 * SECONDS_PER_DAY

#: Units on one line, proposed (a claim line in the facts) or billed (what a rule earns, a
#: code's max_units): no RPM or care-management code reaches a tenth of this in a month
#: (Medicare's unit limits on the add-on codes are single digits), so a larger number is a
#: data error in the facts, or a mistake in the pack.
MAX_UNITS = 100

#: The largest relative value unit (RVU) a pack may give a code: the largest in the Medicare
#: fee schedule are under 200. A negative RVU would bill a negative amount.
MAX_RVU = Decimal(1000)

#: The largest conversion factor, in dollars per RVU (Medicare's has stayed between $30 and $40).
MAX_CONVERSION_FACTOR = Decimal(1000)

#: The largest rate per unit a decision bills (RVU x conversion factor).
MAX_RATE = MAX_RVU * MAX_CONVERSION_FACTOR

#: Transmission days in one facts document: distinct days of a month, or of a monitoring
#: period of at most 30 days.
MAX_TRANSMISSION_DAYS = 31

#: Problems reported about one document (facts, or a pack file): the first this many. A
#: megabyte of wrong values would otherwise take seconds to explain, in tens of megabytes.
MAX_DIAGNOSTICS = 100

#: Characters in one expression of a pack (the longest in the bundled packs is under 300).
MAX_EXPRESSION_LENGTH = 4000

#: Nesting in one expression, each operator counted (a + b + c nests twice): deep enough for
#: any condition a person writes, shallow enough for the checker and the code generator.
MAX_EXPRESSION_DEPTH = 40

#: Containers nested in a YAML file of a pack or of pack test cases (facts have MAX_DEPTH).
MAX_YAML_DEPTH = 100

#: What aliases may repeat in a YAML file of a pack or of pack test cases, in values and
#: characters (a repeated scalar counts its length, a repeated list or mapping everything in
#: it): far above what reusing a few lists of dates needs, far below an alias bomb.
MAX_YAML_ALIAS_EXPANSION = 1_000_000

#: Bytes in one FHIR resource: an NDJSON line (its line end not counted), or a resource in a
#: Bundle as orjson writes it. A resource with an attachment inline (a signed consent's scan,
#: a photo) stays well under it; no more of a longer line is read.
MAX_FHIR_RESOURCE_BYTES = 16 << 20

#: Bytes in one FHIR JSON file: a Bundle is read whole (its urn:uuid references name its other
#: entries), so this bounds the memory of reading one; an export larger than this is NDJSON.
MAX_FHIR_DOCUMENT_BYTES = 256 << 20

#: Containers nested in one FHIR JSON file or NDJSON line, the file counted: a resource nests
#: about 10 levels (a Bundle and its entry add 3); 100 leaves room for any extension and for
#: Bundles within Bundles, and stays far below the parsers' recursion limits.
MAX_FHIR_DEPTH = 100

#: The days FHIR records are placed on: far wider than any record a Medicare RPM claim rests
#: on (the codes date from 2019; an established patient looks back 3 years), far inside the
#: calendar the timeline counts in (years 1 to 9999: 3 years back, 30 days on). A day outside
#: them is a mistake in the record (0002 for 2002, 9999 for "no end").
FIRST_FHIR_DAY = date(1900, 1, 1)
LAST_FHIR_DAY = date(2199, 12, 31)
