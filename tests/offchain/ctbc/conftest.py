"""Make ``import offchain`` find the project package under plain ``pytest``.

``tests/conftest.py`` puts ``tests/`` on ``sys.path``; there, the folder ``tests/offchain``
(no ``__init__.py``) is importable as a namespace package named ``offchain`` and shadows the
editable install of the real one. Putting the project root first restores the real package
(``brownie test`` already does this when it loads the project).
"""

import sys
from pathlib import Path

_ROOT = str(Path(__file__).resolve().parents[3])
if _ROOT not in sys.path:
    sys.path.insert(0, _ROOT)
if getattr(sys.modules.get("offchain"), "__file__", "") is None:  # a namespace shadow was imported
    for _name in [m for m in sys.modules if m == "offchain" or m.startswith("offchain.")]:
        del sys.modules[_name]
