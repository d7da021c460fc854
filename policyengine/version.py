"""The engine's version: the one place it is written (pyproject.toml reads it from here).

Every decision records it, so a stored decision names the engine that made it."""

__version__ = "0.8.0"
