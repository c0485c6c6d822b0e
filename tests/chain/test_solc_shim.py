"""The solc shim (tools/solc-shim.js) and its installer (crowdsense.chain.toolchain)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from crowdsense.errors import ToolchainError
from crowdsense.chain.toolchain import PROJECT_ROOT, SOLC_VERSION, install_solc, render_wrapper, shim_script

NODE = shutil.which("node")
pytestmark = pytest.mark.skipif(NODE is None, reason="node is not installed")

SOURCE = """// SPDX-License-Identifier: MIT
pragma solidity 0.8.24;
import {Lib} from "lib/Lib.sol";
contract Uses { function f() external pure returns (uint256) { return Lib.seven(); } }
"""
LIB = """// SPDX-License-Identifier: MIT
pragma solidity 0.8.24;
library Lib { function seven() internal pure returns (uint256) { return 7; } }
"""


def run_shim(*args: str, stdin: str | None = None, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [NODE, str(shim_script()), *args], input=stdin, capture_output=True, text=True, cwd=cwd, timeout=120
    )


def standard_input(path: str = "Uses.sol") -> str:
    return json.dumps(
        {
            "language": "Solidity",
            "sources": {path: {"content": SOURCE}},
            "settings": {"outputSelection": {"*": {"*": ["abi", "evm.bytecode.object"]}}},
        }
    )


def test_version_reports_pinned_compiler():
    out = run_shim("--version")
    assert out.returncode == 0
    assert f"Version: {SOLC_VERSION}+commit." in out.stdout


def test_standard_json_compiles_with_imports_from_disk(tmp_path):
    (tmp_path / "lib").mkdir()
    (tmp_path / "lib" / "Lib.sol").write_text(LIB)
    out = run_shim("--standard-json", "--allow-paths", str(tmp_path), stdin=standard_input(), cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout)
    assert not [e for e in result.get("errors", []) if e["severity"] == "error"]
    contract = result["contracts"]["Uses.sol"]["Uses"]
    assert contract["abi"][0]["name"] == "f"
    assert len(contract["evm"]["bytecode"]["object"]) > 100


def test_standard_json_reports_missing_import_as_compiler_error(tmp_path):
    out = run_shim("--standard-json", stdin=standard_input(), cwd=tmp_path)
    assert out.returncode == 0
    errors = json.loads(out.stdout)["errors"]
    assert any("lib/Lib.sol" in e["formattedMessage"] for e in errors)


def test_standard_json_refuses_files_outside_allowed_paths(tmp_path):
    outside = tmp_path / "outside"
    inside = tmp_path / "inside"
    (outside / "lib").mkdir(parents=True)
    inside.mkdir()
    (outside / "lib" / "Lib.sol").write_text(LIB)
    # an absolute import of a file that lies outside cwd, base path and allowed paths
    source = SOURCE.replace('"lib/Lib.sol"', json.dumps(str(outside / "lib" / "Lib.sol")))
    payload = json.loads(standard_input())
    payload["sources"]["Uses.sol"]["content"] = source
    out = run_shim("--standard-json", stdin=json.dumps(payload), cwd=inside)
    errors = json.loads(out.stdout)["errors"]
    assert any("outside of allowed directories" in e["formattedMessage"] for e in errors)


def test_combined_json_outputs_abi_and_bin(tmp_path):
    (tmp_path / "lib").mkdir()
    (tmp_path / "lib" / "Lib.sol").write_text(LIB)
    (tmp_path / "Uses.sol").write_text(SOURCE)
    out = run_shim("--combined-json", "abi,bin,ast", "Uses.sol", cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout)
    assert result["contracts"]["Uses.sol:Uses"]["abi"][0]["name"] == "f"
    assert result["contracts"]["Uses.sol:Uses"]["bin"]
    assert "Uses.sol" in result["sources"]


def test_unknown_option_fails_like_native_solc():
    out = run_shim("--frobnicate")
    assert out.returncode != 0
    assert out.stderr.startswith("unrecognised option '--frobnicate'")


def test_no_mode_is_an_error():
    out = run_shim()
    assert out.returncode != 0
    assert "expected --version" in out.stderr


# ------------------------------------------------------------------ installer


def test_install_writes_wrapper_that_answers_version_without_node(tmp_path):
    path, kind = install_solc(folder=tmp_path, prefer_native=False)
    assert kind == "shim"
    assert path == tmp_path / f"solc-v{SOLC_VERSION}"
    assert os.access(path, os.X_OK)
    # --version must not start node: run it with an empty PATH
    out = subprocess.run([str(path), "--version"], capture_output=True, text=True, env={"PATH": ""})
    assert f"Version: {SOLC_VERSION}+commit." in out.stdout


def test_install_is_idempotent(tmp_path):
    path, _ = install_solc(folder=tmp_path, prefer_native=False)
    before = path.read_text()
    mtime = path.stat().st_mtime_ns
    again, kind = install_solc(folder=tmp_path, prefer_native=False)
    assert (again, kind) == (path, "present")
    assert path.read_text() == before and path.stat().st_mtime_ns == mtime


def test_install_replaces_wrapper_of_a_moved_checkout(tmp_path):
    stale = tmp_path / f"solc-v{SOLC_VERSION}"
    stale.write_text(render_wrapper(NODE, Path("/nonexistent/tools/solc-shim.js"), f"{SOLC_VERSION}+commit.x"))
    stale.chmod(0o755)
    path, kind = install_solc(folder=tmp_path, prefer_native=False)
    assert kind == "shim"
    assert str(shim_script()) in path.read_text()


def test_wrapper_of_another_checkout_whose_path_ends_in_ours_is_replaced(tmp_path):
    other = Path("/elsewhere" + str(shim_script()))  # e.g. a clean clone at /elsewhere/<this path>
    stale = tmp_path / f"solc-v{SOLC_VERSION}"
    stale.write_text(render_wrapper(NODE, other, f"{SOLC_VERSION}+commit.x"))
    stale.chmod(0o755)
    path, kind = install_solc(folder=tmp_path, prefer_native=False)
    assert kind == "shim" and f"'{shim_script()}'" in path.read_text() and str(other) not in path.read_text()


def test_wrapper_of_a_deleted_checkout_says_so_in_one_line(tmp_path):
    gone = tmp_path / "gone" / "tools" / "solc-shim.js"
    wrapper = tmp_path / f"solc-v{SOLC_VERSION}"
    wrapper.write_text(render_wrapper(NODE, gone, f"{SOLC_VERSION}+commit.x"))
    wrapper.chmod(0o755)
    out = subprocess.run([str(wrapper), "--standard-json"], input="{}", capture_output=True, text=True, timeout=60)
    assert out.returncode == 1 and out.stderr.count("\n") == 1
    assert out.stderr.startswith(f"error: the solc shim {gone} is gone") and "make setup" in out.stderr


def test_install_prefers_native_solc_on_path(tmp_path, monkeypatch):
    fake_bin = tmp_path / "bin"
    fake_bin.mkdir()
    native = fake_bin / "solc"
    native.write_text(f"#!/bin/sh\necho 'Version: {SOLC_VERSION}+commit.abcdef12.Linux.g++'\n")
    native.chmod(0o755)
    monkeypatch.setenv("PATH", f"{fake_bin}{os.pathsep}{os.environ['PATH']}")
    path, kind = install_solc(folder=tmp_path / "solcx")
    assert kind == "native"
    assert path.read_text() == native.read_text()


def test_install_ignores_native_solc_of_another_version(tmp_path, monkeypatch):
    fake_bin = tmp_path / "bin"
    fake_bin.mkdir()
    native = fake_bin / "solc"
    native.write_text("#!/bin/sh\necho 'Version: 0.7.6+commit.7338295f.Linux.g++'\n")
    native.chmod(0o755)
    monkeypatch.setenv("PATH", f"{fake_bin}{os.pathsep}{os.environ['PATH']}")
    _, kind = install_solc(folder=tmp_path / "solcx")
    assert kind == "shim"


def test_install_rejects_wrong_npm_compiler_version(tmp_path):
    with pytest.raises(ToolchainError, match="pin 0.8.99"):
        install_solc("0.8.99", folder=tmp_path, prefer_native=False)


def test_install_without_node_fails_clearly(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(ToolchainError, match="no 'node' on PATH"):
        install_solc(folder=tmp_path / "solcx", prefer_native=False)


def test_project_compiler_is_installed_for_brownie():
    """`make setup` has put the pinned compiler where py-solc-x looks."""
    import solcx

    assert SOLC_VERSION in [str(v) for v in solcx.get_installed_solc_versions()]
    assert PROJECT_ROOT.joinpath("brownie-config.yaml").read_text().count(f"version: {SOLC_VERSION}") == 1
