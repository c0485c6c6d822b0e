"""Sub-commands of the ``crowdsense`` CLI, one module per area (see :mod:`offchain.cli`)."""
