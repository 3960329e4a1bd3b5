"""Lower layers never import higher ones (DESIGN.md, CONTRIBUTING.md)."""

import ast
import pathlib

import gdlab

ROOT = pathlib.Path(gdlab.__file__).parent
LAYER = {
    "core": 1, "_typing": 1, "errors": 1, "testing": 1,
    "models": 2, "data": 2, "optim": 2, "train": 2,
    "probes": 3, "kernels": 3, "theory": 3,
    "phenomena": 4,
    "store": 5, "runner": 5, "report": 5, "cli": 5, "api": 5,
}


def _layer(module: str) -> int | None:
    parts = module.split(".")
    if parts[0] != "gdlab" or len(parts) < 2:
        return None
    return LAYER.get(parts[1])


def test_no_upward_imports():
    bad = []
    for path in ROOT.rglob("*.py"):
        rel = path.relative_to(ROOT.parent).with_suffix("")
        mod = ".".join(rel.parts)
        own = _layer(mod)
        if own is None:
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names = [node.module]
            for name in names:
                other = _layer(name)
                if other is not None and other > own:
                    bad.append(f"{mod} (layer {own}) imports {name} (layer {other})")
    assert not bad, "\n".join(bad)
