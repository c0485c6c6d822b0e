"""Package attributes imported on first use.

``crowdsense.chain`` and ``crowdsense.runs`` offer their main names at the package level, but
importing all of them means importing web3 and the whole client (most of a second). A worker
process that needs one light sub-module, or a tool that only talks to the node, should not pay
for that, so these packages resolve their names lazily: a table lists the public names of
each defining module, imported when one of its names is first looked up (PEP 562 module
``__getattr__``).
"""

from __future__ import annotations

import importlib
from typing import Any, Callable, Mapping, Sequence

__all__ = ["lazy_exports"]


def lazy_exports(
    namespace: dict[str, Any], exports: Mapping[str, Sequence[str]]
) -> tuple[list[str], Callable[[str], Any], Callable[[], list[str]]]:
    """``__all__``, ``__getattr__`` and ``__dir__`` of a package offering ``exports`` lazily.

    ``exports`` maps each defining module to the public names taken from it. Use in the
    package's ``__init__``::

        __all__, __getattr__, __dir__ = lazy_exports(globals(), _EXPORTS)

    A name, once imported, is stored in ``namespace`` so later look-ups are plain attribute
    reads.
    """
    package = namespace["__name__"]
    home = {name: module for module, names in exports.items() for name in names}

    def __getattr__(name: str) -> Any:
        module = home.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(module), name)
        namespace[name] = value
        return value

    def __dir__() -> list[str]:
        return sorted(set(namespace) | set(home))

    return list(home), __getattr__, __dir__
