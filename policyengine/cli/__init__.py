"""The `policyengine` command (contract v1, section 3).

Exit status: 0 the command did its job; 1 it ran and found failures (an invalid pack);
2 usage errors and unreadable or invalid input. Errors go to stderr as
`where: message [code]` with a caret under the source line, never a traceback.
"""
from __future__ import annotations

import importlib

import click

from ..version import __version__

#: each command, as the module and attribute that define it: a command's module is imported
#: when that command runs (or `--help` lists them all), so `evaluate` does not pay for the
#: decision log, the service or the FHIR reader
COMMANDS = {
    "evaluate": "deciding:evaluate", "batch": "deciding:batch", "impact": "deciding:impact",
    "validate": "authoring:validate", "test": "authoring:test_command", "lint": "authoring:lint",
    "diff": "authoring:diff", "new-pack": "authoring:new_pack_command",
    "explain": "explaining:explain", "verify": "explaining:verify", "report": "explaining:report",
    "ingest": "fhir:ingest", "timeline": "fhir:timeline", "worklist": "worklist:worklist", "serve": "service:serve",
    "log": "logs:log_group",
}


class Commands(click.Group):
    """The group whose commands are imported on first use (`COMMANDS`)."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name not in COMMANDS:
            return None
        module, attribute = COMMANDS[name].split(":")
        command: click.Command = getattr(importlib.import_module(f"{__name__}.{module}"), attribute)
        return command


@click.group(cls=Commands, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="policyengine")
def main() -> None:
    """Explainable Medicare RPM billing decisions from versioned YAML rule packs."""
