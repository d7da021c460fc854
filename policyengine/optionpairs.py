"""`name=value` pairs, as `--option` on the command line and `option=` in a service query
give a pack's options: read in one place so both read them alike."""
from __future__ import annotations

from collections.abc import Iterable


def parse_option_pairs(pairs: Iterable[str]) -> dict[str, str]:
    """The options named by `pairs` (`NAME=VALUE`, spaces around each side dropped; a name
    given twice keeps its last value). Raises ValueError naming a pair that is not NAME=VALUE."""
    options = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name:
            raise ValueError(f"{pair!r} is not NAME=VALUE")
        options[name.strip()] = value.strip()
    return options
