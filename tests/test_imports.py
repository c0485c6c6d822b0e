"""Every public module imports on its own, first, in a fresh interpreter.

An import cycle hides as long as some other module happens to be imported before: the test
suite imports everything in one process, so only a fresh interpreter per module shows that a
user's ``import crowdsense.ldpf.city`` (say) works as the first line of a script.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

import crowdsense

PACKAGE = Path(crowdsense.__file__).parent


def public_modules() -> list[str]:
    """Dotted names of the package's modules and packages without a private (``_``) part.

    Read from the files, not with :mod:`pkgutil`, which skips folders without ``__init__.py``
    (namespace packages such as ``crowdsense.pmcb``).
    """
    names = []
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        if not any(part.startswith("_") for part in parts):
            names.append(".".join(parts))
    return names


def test_the_scan_sees_the_package():
    names = public_modules()
    assert {"crowdsense", "crowdsense.pmcb.kmeans", "crowdsense.ldpf.city", "crowdsense.cli.main"} \
        <= set(names)
    assert not [name for name in names if "._" in name]


@pytest.mark.parametrize("module", public_modules())
def test_module_imports_first_in_a_fresh_interpreter(module, tmp_path):
    # From an empty folder: the module comes from the installed package, nothing else.
    run = subprocess.run([sys.executable, "-c", f"import {module}"], cwd=tmp_path, capture_output=True,
                         text=True, timeout=120, check=False)
    assert run.returncode == 0, run.stderr.strip().splitlines()[-1:]


#: What a party that only talks to services imports: none of it may need the ``service`` extra.
CLIENT_SIDE = ("crowdsense.services.client", "crowdsense.services.subtask_store", "crowdsense.services.pdc_client",
               "crowdsense.services.ctbc_client", "crowdsense.cli.ctbc_parties", "crowdsense.cli.pdc_parties",
               "crowdsense.cli.edge")


@pytest.mark.parametrize("module", CLIENT_SIDE)
def test_a_party_s_modules_do_not_import_the_server_stack(module, tmp_path):
    code = (f"import sys, {module}\n"
            "loaded = sorted(m for m in ('fastapi', 'uvicorn', 'sqlalchemy', 'starlette') if m in sys.modules)\n"
            "print(','.join(loaded))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "", f"{module} imports {done.stdout.strip()}"
