"""Run the peer harness (../shared/bench/peers, read-only) with our engine beside the peers.

    python benchmarks/peers/run_peers.py --python /tmp/peers-venv/bin/python \
        --python-for jsonlogic_qubit=/tmp/peers-alt-venv/bin/python [run_all.py options...]

The harness is copied to a temporary folder, our adapters (engines/ beside this file) are
dropped into the copy's engines/ and listed in its ENGINES right after the hand-written
Python variants, and the copy's run_all.py runs everything in one call, so every ratio is
measured in one run on one machine. The interpreter given with --python must have the
peers (requirements-peers.txt) and this project (pip install -e .) installed.

Options other than --harness and --keep pass through to run_all.py (e.g. --only, --n,
--min-seconds, --repeats); results go to the copy's results/ unless --out says otherwise.
"""
from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
DEFAULT_HARNESS = HERE.parent.parent.parent / "shared" / "bench" / "peers"
OURS = ["policyengine_pack", "policyengine_pack_compact_trace", "policyengine_pack_full_trace"]


def prepare(harness: Path, target: Path) -> Path:
    copy = target / "peers"
    shutil.copytree(harness, copy, ignore=shutil.ignore_patterns("results", "__pycache__"))
    for source in (HERE / "engines").glob("*.py"):
        shutil.copy(source, copy / "engines" / source.name)
    init = copy / "engines" / "__init__.py"
    text = init.read_text()
    anchor = '    "plain_python_compact_trace",\n'
    if anchor not in text:
        raise SystemExit(f"cannot find where to list our engines in {init}")
    init.write_text(text.replace(anchor, anchor + "".join(f'    "{name}",\n' for name in OURS), 1))
    return copy


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--harness", type=Path, default=DEFAULT_HARNESS, help=f"the harness folder (default {DEFAULT_HARNESS})")
    parser.add_argument("--keep", action="store_true", help="keep the temporary copy")
    args, passthrough = parser.parse_known_args(argv)
    target = Path(tempfile.mkdtemp(prefix="policyengine-peers-"))
    try:
        copy = prepare(args.harness.resolve(), target)
        env = dict(os.environ, POLICYENGINE_PEERS_PACK=str(HERE / "pack"))
        python = sys.executable
        if "--python" in passthrough:
            python = passthrough[passthrough.index("--python") + 1]
        print(f"harness copy: {copy}", flush=True)
        return subprocess.call([python, str(copy / "run_all.py"), *passthrough], cwd=copy, env=env)
    finally:
        if not args.keep:
            shutil.rmtree(target, ignore_errors=True)
        else:
            print(f"kept {target}")


if __name__ == "__main__":
    sys.exit(main())
