"""Our engine, trace form 'none': the workload's pack evaluated with policyengine.evaluate."""
from engines._policyengine_common import outputs, make_setup

NAME = "policyengine (ours): YAML pack, no trace"
DIST = "rpm-policyengine"
IDIOM = ("YAML pack (3 rules, 1 definition) with its own facts schema; load_pack once; "
         "evaluate(record, pack, trace='none') per record returns the whole decision")
AGGREGATION = "engine"

setup = make_setup("none")


def normalize(raw):
    return outputs(raw)
