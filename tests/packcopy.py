"""Copies of the bundled pack chain (2024 <- 2025 <- 2026) in a test's folder, each
pack.yaml passed through a text transform; the copies extend each other by path."""
from __future__ import annotations

import random
import re
import shutil
from pathlib import Path
from typing import Callable

ROOT = Path(__file__).resolve().parents[1]
YEARS = ("2024", "2025", "2026")


def copy_chain(target: Path, transform: Callable[[str], str] = lambda text: text) -> dict[str, Path]:
    """The copied pack directories by bundled id."""
    copied = {}
    for year in YEARS:
        pack_id = f"cms-rpm-{year}"
        directory = target / pack_id
        shutil.copytree(ROOT / "rulepacks" / pack_id, directory)
        path = directory / "pack.yaml"
        text = re.sub(r"^extends: (cms-rpm-\d+)$", r"extends: ../\1", path.read_text(), flags=re.M)
        path.write_text(transform(text))
        copied[pack_id] = directory
    return copied


def shuffle_list(text: str, section: str, seed: int) -> str:
    """The pack text with the items of a top-level list (`rules:`, `conflicts:`) in another order."""
    lines = text.split("\n")
    try:
        start = lines.index(f"{section}:")
    except ValueError:
        return text
    end = next((i for i in range(start + 1, len(lines)) if lines[i] and not lines[i].startswith((" ", "#"))), len(lines))
    body = lines[start + 1:end]
    first = next(i for i, line in enumerate(body) if line.startswith("  - "))
    items: list[list[str]] = []
    for line in body[first:]:
        if line.startswith("  - "):
            items.append([])
        items[-1].append(line)
    random.Random(seed).shuffle(items)
    return "\n".join(lines[:start + 1] + body[:first] + [line for item in items for line in item] + lines[end:])
