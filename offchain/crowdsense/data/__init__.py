"""Sample data sets shipped inside the package, so that every experiment runs offline.

``SOURCES.md`` beside this module gives each file's provenance, size, checksum and licence:

* ``facebook_combined.txt.gz``: SNAP ego-Facebook edge list (4,039 nodes), the demo's graph;
* ``email-Eu-core.txt.gz`` and ``email-Eu-core-department-labels.txt.gz``: SNAP email-Eu-core;
* ``rio_buses_sample.csv.gz``: GPS positions of Rio de Janeiro buses (the synthetic city).

The files are read through :func:`sample_path` rather than a path computed from this file, so
the same code works in a source checkout and in an installed wheel.
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

from crowdsense.errors import InputError

__all__ = ["sample_path", "sample_names"]


def sample_names() -> list[str]:
    """Names of the shipped sample files (data only, not the provenance notes)."""
    return sorted(p.name for p in files(__name__).iterdir() if p.name.endswith(".gz"))


def sample_path(name: str) -> Path:
    """File-system path of the shipped sample file ``name`` (e.g. ``"facebook_combined.txt.gz"``).

    The package is installed as plain files (wheel or editable), so the resource is a real path
    that any reader (``gzip.open``, numpy, igraph) can open.
    """
    resource = files(__name__) / name
    if "/" in name or name.startswith(".") or not resource.is_file():
        raise InputError(f"no sample data file {name!r}: expected one of {', '.join(sample_names())}")
    return Path(str(resource))
