"""What every family of commands shares: the exit statuses, how a diagnostic ends a command,
reading a pack, a file or standard input, and the --pack and --option options."""
from __future__ import annotations

import io
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO, NoReturn

import click

from ..diagnostics import DiagnosticError, render_all
from ..optionpairs import parse_option_pairs
from ..packs import CompiledPack, PackNotFound, load_pack

EXIT_FAILURES = 1
EXIT_BAD_INPUT = 2


def exit_with(error: DiagnosticError, status: int) -> NoReturn:
    """End the command with exit `status`, the error's diagnostics on stderr."""
    click.echo(render_all(error.diagnostics), err=True)
    sys.exit(status)


def load_pack_or_exit(pack_ref: str, invalid: Callable[[DiagnosticError], NoReturn] | None = None) -> CompiledPack:
    """A pack for validate and test: exit 2 when there is none at PACK (a usage error),
    1 when it is invalid (the command found failures; `invalid` reports the errors when
    the command writes them its own way, else they go to stderr); its warnings go to stderr."""
    try:
        pack = load_pack(pack_ref)
    except PackNotFound as error:
        exit_with(error, EXIT_BAD_INPUT)
    except DiagnosticError as error:
        if invalid is not None:
            invalid(error)
        exit_with(error, EXIT_FAILURES)
    for warning in pack.warnings:
        click.echo(warning.render(), err=True)
    return pack


@contextmanager
def progress(length: int | None, label: str) -> Iterator[Callable[[int], None]]:
    """A progress bar on stderr when it is a terminal and there is something to count (not
    in a pipeline's log); what it yields advances it by a number of items or bytes."""
    if not length or not sys.stderr.isatty():
        yield lambda done: None
        return
    with click.progressbar(length=length, label=label, file=sys.stderr) as bar:
        yield bar.update


def standard_input() -> BinaryIO:
    """Standard input as bytes; a usage error when it is closed (`0<&-`), not a traceback."""
    if sys.stdin is None:
        raise click.UsageError("standard input is closed: give a file instead of -, or send the input to it")
    return sys.stdin.buffer


def read_text_input(path: str) -> tuple[str, str]:
    """The UTF-8 text of a file, or of standard input for `-`, and its name for messages."""
    name = "<stdin>" if path == "-" else path
    try:
        if path == "-":  # read as a file is: strict UTF-8, universal newlines
            text = io.TextIOWrapper(standard_input(), encoding="utf-8")
            try:
                return text.read(), name
            finally:
                text.detach()  # sys.stdin stays open
        return Path(path).read_text(encoding="utf-8"), name
    except (OSError, UnicodeDecodeError) as error:
        reason = getattr(error, "strerror", None) or str(error)
        raise click.UsageError(f"cannot read {name}: {reason}") from None


def pack_options(pairs: tuple[str, ...]) -> dict[str, str]:
    """The pack options the --option NAME=VALUE pairs set; a bad pair is a usage error."""
    try:
        return parse_option_pairs(pairs)
    except ValueError as error:
        raise click.BadParameter(str(error), param_hint="--option") from None


def pack_option(default: str) -> Callable:
    """--pack, as every command takes it; `default` says which pack is used without it."""
    return click.option("--pack", "pack_ref", metavar="PACK",
                        help=f"A pack directory or bundled pack id (default: the bundled pack {default}).")


option_option = click.option("--option", "option_pairs", multiple=True, metavar="NAME=VALUE",
                             help="Set one of the pack's options (see the pack's options:). Repeatable.")
