"""The README's "Using it" commands run as written, in order, from a folder that holds the
project's examples and rule packs: each exits 0, and the files a later command reads are
the ones an earlier command wrote (the README names no file that does not exist)."""
from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def using_it() -> list[str]:
    text = (ROOT / "README.md").read_text()
    block = re.search(r"## Using it\n\n```sh\n(.*?)```", text, re.S)
    assert block, "the README has a 'Using it' block of commands"
    return [line for line in block.group(1).splitlines() if line.startswith("policyengine ")]


def test_the_using_it_commands_run_as_written(tmp_path):
    for name in ("examples", "rulepacks"):
        (tmp_path / name).symlink_to(ROOT / name)
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"}
    commands = using_it()
    assert len(commands) >= 10
    for command in commands:
        done = subprocess.run(command, shell=True, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, f"{command}\n{done.stderr[-2000:]}"
    assert (tmp_path / "reports" / "index.html").is_file() and (tmp_path / "timeline.jsonl").stat().st_size > 0
