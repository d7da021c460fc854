"""The `policyengine` command (contract v1, section 3).

Exit status: 0 the command did its job; 1 it ran and found failures (an invalid pack);
2 usage errors and unreadable or invalid input. Errors go to stderr as
`where: message [code]` with a caret under the source line, never a traceback.
"""
from __future__ import annotations

import click

from ..version import __version__
from .authoring import diff, lint, new_pack_command, test_command, validate
from .deciding import batch, evaluate, impact
from .explaining import explain, report, verify
from .fhir import ingest, timeline
from .logs import log_group
from .service import serve


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="policyengine")
def main() -> None:
    """Explainable Medicare RPM billing decisions from versioned YAML rule packs."""


for command in (evaluate, validate, batch, explain, verify, report, lint, impact, ingest, timeline, new_pack_command, diff,
                test_command, serve, log_group):
    main.add_command(command)
