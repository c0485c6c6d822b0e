"""The wheel a receiver installs: built from this tree without network access, it declares every
third-party module the package imports (as a runtime dependency, or in an optional extra such
as ``plots``; never in ``dev`` alone), keeps the development tools out of the runtime
dependencies, and carries the contract artifacts, the sample data and the ``crowdsense`` command."""

from __future__ import annotations

import ast
import re
import shutil
import subprocess
import sys
import tomllib
import zipfile
from email.parser import Parser
from importlib.metadata import packages_distributions

import pytest

from crowdsense.chain.toolchain import PROJECT_ROOT

SOURCE = PROJECT_ROOT / "offchain" / "crowdsense"
DEV_TOOLS = {"eth-brownie", "slither-analyzer", "pytest", "hypothesis"}


def canonical(name: str) -> str:
    """PEP 503 normalised distribution name."""
    return re.sub(r"[-_.]+", "-", name).lower()


def requirement_name(spec: str) -> str:
    return canonical(re.split(r"[\s<>=!~;\[(]", spec, maxsplit=1)[0])


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> zipfile.ZipFile:
    """The wheel built from a copy of the sources (so that the build leaves the tree untouched)."""
    tmp = tmp_path_factory.mktemp("wheel")
    src = tmp / "src"
    src.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(PROJECT_ROOT / name, src / name)
    shutil.copytree(SOURCE, src / "offchain" / "crowdsense",
                    ignore=shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info"))
    out = tmp / "dist"
    build = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--no-index", "--quiet",
         "-w", str(out), str(src)],
        capture_output=True, text=True, timeout=300, check=False,
    )
    assert build.returncode == 0, build.stderr
    (path,) = out.glob("crowdsense-*.whl")
    with zipfile.ZipFile(path) as archive:
        yield archive


def metadata(wheel: zipfile.ZipFile) -> object:
    (name,) = [n for n in wheel.namelist() if n.endswith(".dist-info/METADATA")]
    return Parser().parsestr(wheel.read(name).decode())


def requirements(wheel: zipfile.ZipFile, *, extra: str | None = None) -> set[str]:
    """Names the wheel requires: at run time (``extra=None``) or with the extra ``extra``."""
    wanted = f'extra == "{extra}"' if extra else None
    return {requirement_name(r) for r in metadata(wheel).get_all("Requires-Dist")
            if (wanted in r if wanted else "extra ==" not in r)}


class _Imports(ast.NodeVisitor):
    """Top-level modules imported by a module, except optional ones (``try: ... except ImportError``)."""

    def __init__(self) -> None:
        self.found: set[str] = set()
        self._optional = 0

    def visit_Try(self, node: ast.Try) -> None:
        optional = any(isinstance(h.type, ast.Name) and h.type.id in ("ImportError", "ModuleNotFoundError")
                       for h in node.handlers)
        self._optional += optional
        for child in node.body:
            self.visit(child)
        self._optional -= optional
        for child in [*node.handlers, *node.orelse, *node.finalbody]:
            self.visit(child)

    def visit_Import(self, node: ast.Import) -> None:
        if not self._optional:
            self.found.update(alias.name.split(".")[0] for alias in node.names)

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        if not self._optional and node.level == 0 and node.module:
            self.found.add(node.module.split(".")[0])


def third_party_imports() -> set[str]:
    visitor = _Imports()
    for path in SOURCE.rglob("*.py"):
        visitor.visit(ast.parse(path.read_text(), filename=str(path)))
    return {m for m in visitor.found if m not in sys.stdlib_module_names and m != "crowdsense"}


def test_metadata_declares_what_the_package_imports(wheel):
    extras = set(metadata(wheel).get_all("Provides-Extra")) - {"dev"}
    declared = requirements(wheel).union(*(requirements(wheel, extra=e) for e in extras))
    providers = packages_distributions()
    imports = third_party_imports()
    assert {"web3", "numpy", "click"} <= imports  # the scan sees the package's imports
    undeclared = {m: providers.get(m) for m in imports if not {canonical(d) for d in providers.get(m, [])} & declared}
    assert not undeclared, f"imported but not declared as runtime dependencies: {undeclared}"


def test_metadata_matches_pyproject_and_keeps_dev_tools_in_an_extra(wheel):
    project = tomllib.loads((PROJECT_ROOT / "pyproject.toml").read_text())["project"]
    meta = metadata(wheel)
    assert requirements(wheel) == {requirement_name(r) for r in project["dependencies"]}
    assert not DEV_TOOLS & requirements(wheel)
    assert "dev" in meta.get_all("Provides-Extra")
    assert DEV_TOOLS <= requirements(wheel, extra="dev")
    assert meta["License-Expression"] == project["license"]


def test_wheel_carries_artifacts_sample_data_and_the_command(wheel):
    names = set(wheel.namelist())
    artifacts = {f"crowdsense/chain/artifacts/{p.name}" for p in (SOURCE / "chain" / "artifacts").glob("*.json")}
    data = {f"crowdsense/data/{p.name}" for p in (SOURCE / "data").iterdir() if p.suffix in (".gz", ".md")}
    assert len(artifacts) == 2 and artifacts <= names
    assert "crowdsense/data/facebook_combined.txt.gz" in data and data <= names
    assert "crowdsense/py.typed" in names
    for name in data | artifacts:
        assert wheel.read(name) == (SOURCE.parent / name).read_bytes(), name
    (entry_points,) = [n for n in names if n.endswith(".dist-info/entry_points.txt")]
    assert "crowdsense = crowdsense.cli.main:main" in wheel.read(entry_points).decode()
    assert not [n for n in names if "__pycache__" in n or n.startswith(("tests/", "benchmarks/"))]
