"""Make the Solidity compiler available to brownie / py-solc-x on any machine.

py-solc-x looks for executables named ``solc-v<version>`` in its install folder
(``SOLCX_BINARY_PATH`` or ``~/.solcx``) and drives them with ``--version`` and
``--standard-json``. Native solc builds cannot be downloaded everywhere, so this module puts
one of two things there:

1. a native ``solc`` of the pinned version found on ``PATH`` (preferred: it is faster), via
   ``solcx.import_installed_solc``; or
2. a small wrapper around ``tools/solc-shim.js``, which runs the npm ``solc`` package (the
   official compiler built to WebAssembly) under Node.

Running it again is cheap and changes nothing when the right executable is already there.

This is development tooling: it needs the source checkout (``tools/``, ``node_modules/``), and
is the one place of the package that locates the checkout (:func:`checkout_root`).

Usage: ``python -m crowdsense.chain.toolchain [--check]``.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import stat
import subprocess
import sys
from pathlib import Path

from crowdsense.errors import ToolchainError

__all__ = [
    "PROJECT_ROOT",
    "checkout_root",
    "SOLC_VERSION",
    "solcx_folder",
    "shim_script",
    "install_solc",
    "render_wrapper",
]

#: Root of the source checkout when the package runs from one (``offchain/crowdsense/chain/``).
PROJECT_ROOT = Path(__file__).resolve().parents[3]
#: The compiler version every contract's pragma pins.
SOLC_VERSION = "0.8.24"
_VERSION_RE = re.compile(r"Version:\s*(\d+\.\d+\.\d+)(\+commit\.[0-9a-f]+)?\S*")
_MARKER = "# crowdsense solc shim"


def checkout_root() -> Path | None:
    """:data:`PROJECT_ROOT` when the package runs from a source checkout, else None (installed)."""
    return PROJECT_ROOT if (PROJECT_ROOT / "brownie-config.yaml").is_file() else None


def solcx_folder() -> Path:
    """py-solc-x's install folder, honouring ``SOLCX_BINARY_PATH`` as py-solc-x does."""
    env = os.environ.get("SOLCX_BINARY_PATH")
    return Path(env) if env else Path.home() / ".solcx"


def shim_script(root: Path = PROJECT_ROOT) -> Path:
    return root / "tools" / "solc-shim.js"


def _run_version(command: list[str]) -> str:
    try:
        out = subprocess.run(command + ["--version"], capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise ToolchainError(f"cannot run {' '.join(command)} --version: {exc}") from exc
    if out.returncode != 0:
        raise ToolchainError(f"{' '.join(command)} --version failed: {out.stderr.strip()}")
    match = _VERSION_RE.search(out.stdout)
    if not match:
        raise ToolchainError(f"{' '.join(command)} --version printed no version: {out.stdout!r}")
    return match.group(0).split(None, 1)[1]


def render_wrapper(node: str, script: Path, full_version: str) -> str:
    """Text of the executable placed as ``solc-v<version>``.

    ``--version`` is answered without starting Node (brownie asks for it before every
    compile); everything else is handed to the shim.
    """
    return (
        "#!/bin/sh\n"
        f"{_MARKER} for solc {full_version}: npm 'solc' (WebAssembly) under Node\n"
        'if [ "$#" -eq 1 ] && [ "$1" = "--version" ]; then\n'
        "  echo 'solc, the solidity compiler commandline interface'\n"
        f"  echo 'Version: {full_version}'\n"
        "  exit 0\n"
        "fi\n"
        f"if [ ! -f '{script}' ]; then\n"
        f"  echo \"error: the solc shim {script} is gone (its checkout was moved or deleted): "
        "run 'make setup' in the project's checkout\" >&2\n"
        "  exit 1\n"
        "fi\n"
        f"exec '{node}' '{script}' \"$@\"\n"
    )


def _native_solc(version: str) -> Path | None:
    found = shutil.which("solc")
    if not found:
        return None
    try:
        full = _run_version([found])
    except ToolchainError:
        return None
    return Path(found) if full.startswith(version) else None


def install_solc(
    version: str = SOLC_VERSION,
    *,
    folder: Path | None = None,
    root: Path = PROJECT_ROOT,
    prefer_native: bool = True,
) -> tuple[Path, str]:
    """Put a working ``solc-v<version>`` into py-solc-x's folder; return (path, kind).

    ``kind`` is ``"native"``, ``"shim"`` or ``"present"`` (an executable that already answers
    with the right version, left untouched).

    Raises
    ------
    ToolchainError
        If neither a native compiler nor Node with the npm ``solc`` package of that version is
        available.
    """
    folder = folder or solcx_folder()
    target = folder / f"solc-v{version}"
    script = shim_script(root)
    if target.exists():
        try:
            current = target.read_text(errors="replace")
        except OSError:
            current = ""
        is_ours = _MARKER in current
        # ours: only if it runs this checkout's script (quoted: another checkout's path may end in ours)
        if not is_ours or f"'{script}'" in current:
            try:
                if _run_version([str(target)]).startswith(version):
                    return target, "present"
            except ToolchainError:
                pass
    folder.mkdir(parents=True, exist_ok=True)
    native = _native_solc(version) if prefer_native else None
    if native is not None:
        shutil.copy2(native, target)
        target.chmod(target.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
        return target, "native"
    node = shutil.which("node")
    if node is None:
        raise ToolchainError("no native solc and no 'node' on PATH: install Node.js 18+ and run 'npm ci'")
    if not script.exists():
        raise ToolchainError(f"solc shim script missing: {script}")
    full = _run_version([node, str(script)])
    if not full.startswith(version):
        raise ToolchainError(
            f"node_modules has solc {full}, but the contracts pin {version}: run 'npm ci'"
        )
    tmp = target.with_name(target.name + ".tmp")
    tmp.write_text(render_wrapper(node, script, full))
    tmp.chmod(0o755)
    tmp.replace(target)  # atomic: a concurrent compile never sees half a script
    if not _run_version([str(target)]).startswith(version):
        raise ToolchainError(f"installed {target} does not report version {version}")
    return target, "shim"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--version", default=SOLC_VERSION, help="solc version (default: %(default)s)")
    parser.add_argument("--no-native", action="store_true", help="always use the npm shim")
    args = parser.parse_args(argv)
    try:
        path, kind = install_solc(args.version, prefer_native=not args.no_native)
    except ToolchainError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(f"solc {args.version}: {kind} at {path}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
