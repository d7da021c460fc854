"""The package's layers: a module imports only from its own part and the layers below it.

   10  cli | dask_batch                          the commands
    9  service                                    the decision service (HTTP)
    8  decisionlog | authoring | worklist         the decision log and its replay; next year's pack; the daily worklist
    7  explain | testing | batch | render | timeline  built on decisions (none imports another)
    6  api                                        the Python API
    5  engine                                     deciding one patient-month
    4  packs                                      reading and compiling rule packs
    3  facts | fhir                               reading and checking facts; reading FHIR records
    2  lang                                       the expression language
    1  yamlsource | schemacheck | outputs | repeatedkeys | usercache  reading YAML, checking JSON Schemas, where
                                               commands write, JSON objects that name a key twice, the cache folder
    0  diagnostics | pointers | version | limits | optionpairs | wording  what every layer is bounded by and says

The package root (`policyengine/__init__.py`) is the face of the top and is imported by no
module of the package.
"""
from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "policyengine"
#: each layer's parts; a part is the modules (or packages) it holds
LAYERS = [
    [("diagnostics",), ("pointers",), ("version",), ("limits",), ("optionpairs",), ("wording",)],
    [("yamlsource",), ("schemacheck",), ("outputs",), ("repeatedkeys",), ("usercache",)],
    [("lang",)],
    [("facts",), ("fhir",)],
    [("packs",)],
    [("engine",)],
    [("api",)],
    [("explain",), ("testing",), ("batch",), ("render",), ("timeline",)],
    [("decisionlog",), ("authoring",), ("worklist",)],
    [("service",)],
    [("cli",), ("dask_batch",)],
]
PART = {name: (layer, part[0]) for layer, parts in enumerate(LAYERS) for part in parts for name in part}


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported(path: Path, module: str) -> list[tuple[int, str]]:
    """(line, module) of every policyengine module `path` imports."""
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names if alias.name.startswith("policyengine")]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(anchor + ([base] if base else []))
            if not base.startswith("policyengine"):
                continue
            for alias in node.names:
                candidate = f"{base}.{alias.name}"
                is_module = (PACKAGE.parent / candidate.replace(".", "/")).with_suffix(".py").exists() or \
                    (PACKAGE.parent / candidate.replace(".", "/") / "__init__.py").exists()
                found.append((node.lineno, candidate if is_module else base))
    return found


def part_of(module: str) -> tuple[int, str] | None:
    """(layer, part) of a module; None for the package root."""
    pieces = module.split(".")
    return PART[pieces[1]] if len(pieces) > 1 and pieces[1] in PART else None


def test_every_module_has_a_layer():
    unplaced = [module_name(p) for p in PACKAGE.rglob("*.py")
                if module_name(p) != "policyengine" and not module_name(p).startswith("policyengine.bundled")
                and part_of(module_name(p)) is None]
    assert unplaced == []


def test_imports_go_down_the_layers():
    wrong = []
    for path in sorted(PACKAGE.rglob("*.py")):
        module = module_name(path)
        source = part_of(module)
        if source is None:
            continue
        for line, target_module in imported(path, module):
            target = part_of(target_module)
            where = f"{path.relative_to(PACKAGE.parent)}:{line}: {module} imports {target_module}"
            if target is None:
                wrong.append(f"{where} (the package root)")
            elif target[0] > source[0] or (target[0] == source[0] and target[1] != source[1]):
                wrong.append(f"{where} ({target[1]} is not below {source[1]})")
    assert wrong == []
