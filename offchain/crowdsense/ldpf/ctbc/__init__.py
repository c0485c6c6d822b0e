"""CTBC: Coordinate Transformation and Bit Commitment (LDPF section 4.2, docs/design.md section 6).

Choose the N users nearest a task in a popular region without anyone but the user seeing a
real coordinate, and with every user bound to the data it uploaded:

* :mod:`~crowdsense.ldpf.ctbc.transform` - the edge generator's secret per-epoch rigid motion
  ``p' = R(theta) p + (a, b)`` and its inverse (parameters from :mod:`secrets`);
* :mod:`~crowdsense.ldpf.ctbc.grouping` - k-anonymity groups (MDAV) on transformed positions; UD is
  the list of group centres;
* :mod:`~crowdsense.ldpf.ctbc.payload` - the canonical bytes of a UD;
* :mod:`~crowdsense.ldpf.ctbc.sealed` - the UD sealed to the platform's key (what the commitment
  binds and the chain shows: no coordinates on chain);
* :mod:`~crowdsense.ldpf.ctbc.matching` - region-of-interest filter, matching degree, Cases 1 and 2,
  replacement of users whose reveal fails;
* :mod:`~crowdsense.ldpf.ctbc.protocol` - the user's commit/reveal (opening stored before sending),
  the platform's verification, and a simulated round, on a board and secret store of
  :mod:`crowdsense.commitments` (in memory, or on chain through :mod:`crowdsense.chain.boards`);
* :mod:`~crowdsense.ldpf.ctbc.baseline` - the trusted-anonymizer k-anonymity baseline;
* :mod:`~crowdsense.ldpf.ctbc.metrics` - drift degree.

The synthetic city where rounds are simulated, and the popular/remote classification of regions
that decides between CTBC and PDC, are in :mod:`crowdsense.ldpf.city`, shared by both protocols.
The city builds on this package's :class:`Region`, so this package does not import it back.

Trust model. The transform parameters go to the users and the platform, never to the chain
and never to the anonymizer that groups transformed positions. The platform sees only group
centres (k-anonymous), the chain only commitments, r1 and the opened centres of selected users
(in transformed coordinates, meaningless without the parameters).
"""

from crowdsense.ldpf.ctbc.baseline import BaselineResult, kanonymity_baseline, knn_cloaks
from crowdsense.ldpf.ctbc.errors import (
    AnonymityLevelError,
    InvalidRegionError,
    NonFiniteCoordinatesError,
    NotEnoughCandidatesError,
    NotEnoughUsersError,
    SelectionShortfallError,
    StaleOpeningError,
)
from crowdsense.ldpf.ctbc.geometry import Region, Task
from crowdsense.ldpf.ctbc.grouping import Grouping, k_anonymity_groups, mdav_labels
from crowdsense.ldpf.ctbc.matching import Candidates, Selection, fill_selection, matching_degree, rank_candidates
from crowdsense.ldpf.ctbc.metrics import DriftStats, drift_degree
from crowdsense.ldpf.ctbc.payload import SCALE, decode_ud, encode_ud
from crowdsense.ldpf.ctbc.protocol import (
    CTBCUser,
    Reveal,
    RoundResult,
    Upload,
    platform_groups,
    run_round,
    select_users,
    ud_payloads,
    verify_reveal,
)
from crowdsense.ldpf.ctbc.sealed import PlatformKey, open_ud, seal_ud
from crowdsense.ldpf.ctbc.transform import ParameterGenerator, RigidTransform, draw_transform

__all__ = [
    "AnonymityLevelError",
    "BaselineResult",
    "CTBCUser",
    "Candidates",
    "DriftStats",
    "Grouping",
    "InvalidRegionError",
    "NonFiniteCoordinatesError",
    "NotEnoughCandidatesError",
    "NotEnoughUsersError",
    "ParameterGenerator",
    "PlatformKey",
    "Region",
    "Reveal",
    "RigidTransform",
    "RoundResult",
    "SCALE",
    "Selection",
    "SelectionShortfallError",
    "StaleOpeningError",
    "Task",
    "Upload",
    "decode_ud",
    "draw_transform",
    "drift_degree",
    "encode_ud",
    "fill_selection",
    "k_anonymity_groups",
    "kanonymity_baseline",
    "knn_cloaks",
    "matching_degree",
    "mdav_labels",
    "open_ud",
    "platform_groups",
    "rank_candidates",
    "run_round",
    "seal_ud",
    "select_users",
    "ud_payloads",
    "verify_reveal",
]
