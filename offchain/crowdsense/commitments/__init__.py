"""Hash commitments of LDPF and the board they are published on.

Both LDPF protocols bind a party to a value by publishing a hash and opening it later on
``CommitmentVerifier``: CTBC users commit to their UD (bit commitments), PDC receivers to their
blinding value r (blinding commitments). This package is everything the two protocols share:

* :mod:`~crowdsense.commitments.hashes` - the commitment hashes exactly as the contract computes
  them, the openings, and the package's one Keccak-256;
* :mod:`~crowdsense.commitments.board` - the board interface (:class:`CommitmentBoard`), its
  records and the in-memory board with the contract's rules;
* :mod:`~crowdsense.commitments.store` - the secret store where a party keeps its openings;
* :mod:`~crowdsense.commitments.errors` - one error class per rule of the contract, raised by
  every board, in memory or on chain.
"""

from crowdsense.commitments import board, errors, hashes, store
from crowdsense.commitments.board import *  # noqa: F403 - the package re-exports each module's __all__
from crowdsense.commitments.errors import *  # noqa: F403
from crowdsense.commitments.hashes import *  # noqa: F403
from crowdsense.commitments.store import *  # noqa: F403

__all__ = [*hashes.__all__, *board.__all__, *store.__all__, *errors.__all__]
