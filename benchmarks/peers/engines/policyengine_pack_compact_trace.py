"""Our engine, trace form 'compact': the workload's pack evaluated with policyengine.evaluate."""
from engines._policyengine_common import traced_outputs, make_setup

NAME = "policyengine (ours): YAML pack + compact trace"
DIST = "rpm-policyengine"
IDIOM = ("YAML pack (3 rules, 1 definition) with its own facts schema; load_pack once; "
         "evaluate(record, pack, trace='compact') per record returns the whole decision")
AGGREGATION = "engine"

setup = make_setup("compact")


def normalize(raw):
    return traced_outputs(raw)
