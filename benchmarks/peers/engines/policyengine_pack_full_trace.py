"""Our engine, trace form 'full': the workload's pack evaluated with policyengine.evaluate."""
from engines._policyengine_common import traced_outputs, make_setup

NAME = "policyengine (ours): YAML pack + full trace, serialised"
DIST = "rpm-policyengine"
IDIOM = ("YAML pack (3 rules, 1 definition) with its own facts schema; load_pack once; "
         "evaluate(record, pack, trace='full') per record returns the whole decision, "
         "also written as its JSON line")
AGGREGATION = "engine"

setup = make_setup("full", serialised=True)


def normalize(raw):
    return traced_outputs(raw)
