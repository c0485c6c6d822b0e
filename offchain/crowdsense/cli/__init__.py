"""Sub-commands of the ``crowdsense`` CLI, one module per area (see :mod:`crowdsense.cli.main`)."""
