"""Services that parties on different machines talk to over HTTP.

The first one is the store of subtask ciphertexts and key envelopes: a releaser writes, its
receivers read, none shares a folder with another. Parts, and where each runs:

* on the service's machine: :mod:`~crowdsense.services.app` (the FastAPI app and uvicorn,
  ``crowdsense service serve``), :mod:`~crowdsense.services.routes` (the ``/v1`` API),
  :mod:`~crowdsense.services.blobs` (content-addressed storage),
  :mod:`~crowdsense.services.replay` (single-use signed requests),
  :mod:`~crowdsense.services.db` (SQLite or PostgreSQL) and
  :mod:`~crowdsense.services.settings`; these need the ``service`` extra;
* on every party's machine: :mod:`~crowdsense.services.client` (HTTP, signing with the
  party's Ethereum key through :mod:`~crowdsense.services.auth`) and
  :mod:`~crowdsense.services.subtask_store` (the store of ``--store http://...``); these need
  only the package's runtime dependencies.

What each party and an observer learn: docs/services.md.
"""

from __future__ import annotations

from crowdsense._lazy import lazy_exports

#: Imported on first use, so that a receiver's client never imports the server stack.
_EXPORTS = {
    "crowdsense.services.app": ("create_app",),
    "crowdsense.services.settings": ("Settings",),
    "crowdsense.services.client": ("ServiceClient",),
    "crowdsense.services.subtask_store": ("ServiceSubtaskStore",),
}
__all__, __getattr__, __dir__ = lazy_exports(globals(), _EXPORTS)
