"""What every benchmark script writes the same way: the machine record, figures and JSON.

Every result file records the machine it ran on and that machine's load average at the start
and at the end of the run: the machine may be shared, and a timing is only comparable with
another one when both were taken on a comparable machine under a comparable load. The
scripts differ in the key names of that record (each result file keeps its own, since the
files are read by name), so the functions here take the key names from their caller.

Figures are written as PNG files with the non-interactive Agg backend (no display needed),
and JSON is written strictly: numpy values become Python numbers and lists, and non-finite
floats (a ratio of a run that failed, a median of nothing) become ``null``, so that every
result file is valid JSON for any reader.
"""

from __future__ import annotations

import datetime
import importlib.metadata
import json
import math
import os
import platform
from collections.abc import Iterable, Mapping
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np

#: The encryption key the benchmarks' claims carry: the x-coordinate of the secp256k1
#: generator, a point of the curve (the registry checks nothing more).
CLAIM_KEY = bytes.fromhex("79be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798")

__all__ = [
    "CLAIM_KEY",
    "cpu_count",
    "cpu_model",
    "jsonable",
    "library_version",
    "load_average",
    "machine_info",
    "output_stem",
    "pyplot",
    "save_figure",
    "utc_timestamp",
    "write_json",
]


# --------------------------------------------------------------------------------- machine


def cpu_count() -> int | None:
    """The CPUs this process may run on (its affinity where the platform has one).

    On a container or a pinned job this is fewer than ``os.cpu_count()``, and it is the
    number that bounds how much work the benchmark can do in parallel.
    """
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count()


def cpu_model() -> str:
    """The CPU's model name (``/proc/cpuinfo``), else what :func:`platform.processor` says."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def load_average() -> list[float] | None:
    """The 1, 5 and 15 minute load averages, or ``None`` where the platform has none.

    Recorded at the start and at the end of a run: a load well above the number of CPUs means
    other jobs competed for them and wall-clock times are stretched.
    """
    try:
        return list(os.getloadavg())
    except (AttributeError, OSError):
        return None


def utc_timestamp() -> str:
    """Now in UTC, to the second (ISO 8601): when a result was taken, in one time zone for all."""
    return datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")


def library_version(distribution: str) -> str:
    """The installed version of a distribution, without importing it; ``"unknown"`` if absent."""
    try:
        return importlib.metadata.version(distribution)
    except importlib.metadata.PackageNotFoundError:
        return "unknown"


def machine_info(
    libraries: Iterable[str] | Mapping[str, str],
    *,
    load_key: str = "loadavg_at_start",
    processor_key: str | None = None,
) -> dict[str, Any]:
    """The machine record of a result file, taken at the start of a run.

    ``libraries`` names the distributions whose versions shape the timings (recorded under
    their names), or maps the name to record to the distribution's name. The load average
    now is recorded under ``load_key``, the CPU model under ``processor_key`` if given. The
    caller adds the load average at the end (:func:`load_average`) under its own key.
    """
    pairs = libraries.items() if isinstance(libraries, Mapping) else ((name, name) for name in libraries)
    info: dict[str, Any] = {"cpu_count": cpu_count(), "platform": platform.platform()}
    if processor_key is not None:
        info[processor_key] = cpu_model()
    info["python"] = platform.python_version()
    info.update({label: library_version(distribution) for label, distribution in pairs})
    info[load_key] = load_average()
    return info


# ---------------------------------------------------------------------------------- output


def output_stem(out_dir: Path, benchmark: str, *, quick: bool) -> str:
    """Create ``out_dir`` and return the stem of the run's files: ``<benchmark>_quick`` for a
    quick run, so that a quick run never replaces the full results, else ``<benchmark>``."""
    Path(out_dir).mkdir(parents=True, exist_ok=True)
    return f"{benchmark}_quick" if quick else benchmark


# --------------------------------------------------------------------------------- figures


def pyplot() -> ModuleType:
    """``matplotlib.pyplot`` on the Agg backend: figures are written to files, never shown.

    Imported on first use, so that a run that draws nothing (a worker process, ``--merge``)
    does not pay for matplotlib.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def save_figure(fig: Any, path: Path, *, dpi: int) -> str:
    """Lay out ``fig``, write it to ``path`` and close it; returns the file's name.

    Closing matters: a script draws a dozen figures, and pyplot keeps every open one alive.
    """
    fig.tight_layout()
    fig.savefig(path, dpi=dpi)
    pyplot().close(fig)
    return Path(path).name


# ------------------------------------------------------------------------------------ JSON


def jsonable(value: Any) -> Any:
    """``value`` with numpy scalars and arrays turned into Python numbers and lists, tuples
    into lists, and NaN and infinities into ``None`` (JSON has no non-finite numbers)."""
    if isinstance(value, np.ndarray):
        value = value.tolist()
    elif isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, Mapping):
        return {k: jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    return value


def write_json(path: Path, data: Any, *, indent: int = 1) -> None:
    """Write ``data`` (see :func:`jsonable`) to ``path`` as strict JSON, newline-terminated."""
    Path(path).write_text(json.dumps(jsonable(data), indent=indent, allow_nan=False) + "\n")
