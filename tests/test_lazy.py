"""lazy_exports: package names resolved on first use, so light sub-modules stay light."""

from __future__ import annotations

import subprocess
import sys

import pytest

from crowdsense._lazy import lazy_exports


def test_names_resolve_from_their_module_and_are_kept():
    namespace = {"__name__": "pkg"}
    all_, getattr_, dir_ = lazy_exports(namespace, {"json": ("dumps", "loads"), "math": ("tau",)})
    assert all_ == ["dumps", "loads", "tau"]
    import json
    import math

    assert getattr_("loads") is json.loads and getattr_("tau") == math.tau
    assert namespace["loads"] is json.loads  # later look-ups are plain attribute reads
    assert {"dumps", "loads", "tau", "__name__"} <= set(dir_())


def test_unknown_name_is_an_attribute_error_naming_the_package():
    _, getattr_, _ = lazy_exports({"__name__": "pkg"}, {"json": ("dumps",)})
    with pytest.raises(AttributeError, match="module 'pkg' has no attribute 'nope'"):
        getattr_("nope")


@pytest.mark.parametrize("package", ["crowdsense.chain", "crowdsense.runs"])
def test_every_exported_name_exists(package):
    import importlib

    module = importlib.import_module(package)
    assert all(getattr(module, name) is not None for name in module.__all__)


def test_a_light_chain_module_does_not_import_web3():
    code = "import sys, crowdsense.chain.node; print('web3' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
