"""`serve --config FILE`: every option of a command from a TOML file, each named as its flag
is (`port`, `log_key_file`, `pack = [...]` for a repeatable one). A flag or an environment
variable (`POLICYENGINE_SERVE_PORT`, ...) given as well wins: click reads the command line,
then the environment, then the file (`default_map`), then the option's default.

A relative path in the file is read from the file's folder when something of that name is
there (a pack folder, a key file beside the settings), else as given (a bundled pack id).
Every setting is checked as its flag is, and a problem names the file and the setting.
"""
from __future__ import annotations

import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from ..diagnostics import suggestion_suffix

ENV_PREFIX = "POLICYENGINE_SERVE_"


def setting_name(option: click.Option) -> str:
    """What the file calls an option: its long flag without the dashes, with underscores."""
    flag = next(opt for opt in option.opts if opt.startswith("--"))
    return flag[2:].replace("-", "_")


def envvar(flag: str) -> str:
    """The environment variable of a serve flag (`--log-key-file`: POLICYENGINE_SERVE_LOG_KEY_FILE)."""
    return ENV_PREFIX + flag.lstrip("-").replace("-", "_").upper()


def _relative_to(folder: Path, value: Any) -> Any:
    if isinstance(value, str) and not Path(value).is_absolute() and (folder / value).exists():
        return str(folder / value)
    return value


def _load(ctx: click.Context, param: click.Parameter, value: str | None) -> None:
    if value is None:
        return
    path = Path(value)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise click.BadParameter(f"cannot read {value}: {error.strerror}", param=param) from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
        raise click.UsageError(f"{value}: not TOML: {error}") from None
    options = {setting_name(p): p for p in ctx.command.params if isinstance(p, click.Option) and p is not param}
    found: dict[str, Any] = {}
    for key, raw in data.items():
        option = options.get(key)
        if option is None:
            raise click.UsageError(f"{value}: unknown setting '{key}'{suggestion_suffix(key, list(options))}; "
                                   f"the settings are {', '.join(sorted(options))}")
        if option.multiple and not isinstance(raw, list):
            raise click.UsageError(f"{value}: {key} is a list, as [\"...\", ...]")
        try:
            values = [_relative_to(path.parent, item) for item in (raw if option.multiple else [raw])]
            converted = [option.type.convert(item, option, ctx) for item in values]
        except click.BadParameter as error:
            raise click.UsageError(f"{value}: {key}: {error.message}") from None
        found[option.name or key] = converted if option.multiple else converted[0]
    ctx.default_map = {**(ctx.default_map or {}), **found}


def setting(*declarations: str, **attributes: Any) -> Callable:
    """A serve option that its environment variable and the --config file can set too."""
    flag = next(d for d in declarations if d.startswith("--")).split("/")[0]  # --on/--off: the variable of --on
    return click.option(*declarations, envvar=envvar(flag), show_envvar=True, **attributes)


def config_option(function: Callable) -> Callable:
    """`--config FILE`, read before the other options so that they can override it."""
    return click.option("--config", metavar="FILE.toml", is_eager=True, expose_value=False, callback=_load,
                        help="Read the options from this TOML file (each named as its flag); a flag or an "
                             f"environment variable ({ENV_PREFIX}NAME) given as well wins.")(function)
