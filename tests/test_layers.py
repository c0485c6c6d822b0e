"""Dependencies point one way: algorithms (pmcb, ldpf, commitments) <- chain <- runs <- cli."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import crowdsense

PACKAGE = Path(crowdsense.__file__).parent
#: Each layer and the layers it must not import.
FORBIDDEN = {
    "pmcb": ("crowdsense.chain", "crowdsense.runs", "crowdsense.cli"),
    "ldpf": ("crowdsense.chain", "crowdsense.runs", "crowdsense.cli"),
    "commitments": ("crowdsense.chain", "crowdsense.runs", "crowdsense.cli"),
    "chain": ("crowdsense.runs", "crowdsense.cli"),
    "runs": ("crowdsense.cli",),
}


def _imports(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
    return found


def _sources(layer: str) -> list[Path]:
    single = PACKAGE / f"{layer}.py"
    return [single] if single.exists() else sorted((PACKAGE / layer).rglob("*.py"))


@pytest.mark.parametrize("layer", sorted(FORBIDDEN))
def test_layer_imports_nothing_above_it(layer):
    sources = _sources(layer)
    assert sources, f"no sources for layer {layer}"
    wrong = {f"{path.relative_to(PACKAGE)}: {name}" for path in sources for name in _imports(path)
             if name.startswith(FORBIDDEN[layer])}
    assert not wrong, sorted(wrong)
