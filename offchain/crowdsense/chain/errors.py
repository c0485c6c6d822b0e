"""Typed errors of the client: the node, transactions, keys, and every contract revert.

Every revert the contracts can produce has one Python class here, found by its 4-byte ABI
selector, so a caller catches :class:`LevelMismatchError` rather than parsing a message, and
the CLI prints one readable line such as::

    level mismatch: subtask needs level 2, receiver 0x70997970C51812dc3A010C7d01b50e0d17dc79C8 has level 1

The same classes are raised by the client's *pre-checks* (read the chain, refuse before
sending and paying gas) with ``pre_check=True``, so a caller handles a refusal the same way
whether it came from a local check or from the chain.

The field names of each class are the parameter names of the Solidity error, read from the
shipped ABI (``crowdsense/chain/artifacts``); the test-suite checks that every error in the ABI
has a class and that the selectors match. :mod:`crowdsense.chain.reverts` turns what a node
says into these classes.
"""

from __future__ import annotations

from typing import Any, ClassVar

from eth_utils import keccak, to_checksum_address

from crowdsense.commitments import errors as board_errors
# DecryptionError is raised by the ciphers too (no chain involved), so it is defined with the
# package's root errors; it is listed here as well because fetching a subtask raises it.
from crowdsense.errors import CrowdsenseError, DecryptionError

__all__ = [
    # infrastructure
    "ClientError",
    "NodeUnavailableError",
    "AccountError",
    "JournalError",
    "StoreError",
    "KeyNotHandedOverError",
    "DecryptionError",
    "TransactionError",
    "FundingError",
    "ReceiptTimeoutError",
    # reverts
    "ContractRevertError",
    "TaskRegistryRevert",
    "CommitmentVerifierRevert",
    "AccessControlRevert",
    "LengthMismatchError",
    "InvalidLevelError",
    "InvalidLevelCountError",
    "EmptyBatchError",
    "BatchTooLargeError",
    "ZeroAddressError",
    "ZeroHashError",
    "UnknownTaskError",
    "IndexOutOfRangeError",
    "TaskClosedError",
    "NotRegisteredError",
    "LevelMismatchError",
    "AlreadyClaimedError",
    "AlreadyHoldsSubtaskError",
    "NotClaimantError",
    "DataAlreadySubmittedError",
    "NotReleaserError",
    "InvalidEncryptionKeyError",
    "NoLevelsRootError",
    "InvalidLevelProofError",
    "SelectionRequiredError",
    "NotForSelectionError",
    "SelectionPendingError",
    "SelectionAlreadySetError",
    "NotSelectedError",
    "UnauthorizedAccountError",
    "BadConfirmationError",
    "InvalidAgesError",
    "ZeroCommitmentError",
    "AlreadyCommittedError",
    "CommitmentNotFoundError",
    "AlreadyRevealedError",
    "CommitmentTooNewError",
    "CommitmentTooOldError",
    "OpeningMismatchError",
    "InvalidPayloadLengthError",
    "RevertStringError",
    "PanicError",
    "UnknownRevertError",
    "REVERT_CLASSES",
    "ROLE_NAMES",
    "error_selector",
]


# ---------------------------------------------------------------------------- infrastructure


class ClientError(CrowdsenseError):
    """Root of the client's errors (a :class:`~crowdsense.errors.CrowdsenseError`)."""


class NodeUnavailableError(ClientError, ConnectionError):
    """The node cannot be reached, times out, or keeps failing after the retries."""

    def __init__(self, url: str, reason: str) -> None:
        self.url = url
        self.reason = reason
        super().__init__(f"node at {url} is unavailable: {reason}")


class AccountError(ClientError, ValueError):
    """A keystore or key cannot be used (missing file, wrong password, malformed key)."""


class JournalError(ClientError, RuntimeError):
    """The local journal cannot be opened or holds inconsistent data."""


class StoreError(ClientError, RuntimeError):
    """The off-chain ciphertext store misses an object or holds one that fails its hash."""


class KeyNotHandedOverError(StoreError):
    """The releaser has not (yet) encrypted the subtask key to this claimant."""


class TransactionError(ClientError, RuntimeError):
    """A transaction could not be sent, or failed on chain without a decodable reason."""


class FundingError(TransactionError):
    """A development node offers no way to fund simulated accounts (no balance method, no
    unlocked account holding enough ether)."""


class ReceiptTimeoutError(TransactionError, TimeoutError):
    """No receipt within the timeout. A journaled transaction stays in the journal; resume later."""

    def __init__(self, tx_hash: str, timeout: float, *, journaled: bool = True) -> None:
        self.tx_hash = tx_hash
        self.timeout = timeout
        self.journaled = journaled
        then = ("it is journaled and `crowdsense resume` (or repeating the command) will pick it up "
                "without sending it twice" if journaled else
                "it may still be mined: look it up before sending the same thing again")
        super().__init__(f"no receipt for transaction {tx_hash} after {timeout:g} s; {then}")


# ---------------------------------------------------------------------------- reverts

#: keccak256 role identifiers of the contracts -> readable names.
ROLE_NAMES: dict[bytes, str] = {
    b"\x00" * 32: "DEFAULT_ADMIN_ROLE",
    keccak(text="REGISTRAR_ROLE"): "REGISTRAR_ROLE",
    keccak(text="RELEASER_ROLE"): "RELEASER_ROLE",
}


class ContractRevertError(ClientError):
    """A contract refused a call: one subclass per custom error of the ABI.

    Parameters
    ----------
    *args, **kwargs
        The error's arguments, positionally in ABI order or by their Solidity names; they
        become attributes of the same names (addresses checksummed, ``bytes32`` as bytes).
    pre_check : bool
        True when the client refused locally, before sending, because the chain state
        already implies this revert; False when the node reported it.
    """

    #: Name of the Solidity error (empty for the synthetic classes).
    solidity_name: ClassVar[str] = ""
    #: Parameter types and names of the Solidity error, filled from the ABI at import.
    abi_types: ClassVar[tuple[str, ...]] = ()
    fields: ClassVar[tuple[str, ...]] = ()
    #: ``str.format`` template over the fields (plus ``role_name`` where relevant).
    template: ClassVar[str] = "{solidity_name}"

    def __init__(self, *args: Any, pre_check: bool = False, **kwargs: Any) -> None:
        if len(args) > len(self.fields):
            raise TypeError(f"{type(self).__name__} takes {len(self.fields)} values, got {len(args)}")
        values = dict(zip(self.fields, args))
        for key, value in kwargs.items():
            if key not in self.fields:
                raise TypeError(f"{type(self).__name__} has no field {key!r}; fields: {self.fields}")
            values[key] = value
        missing = [f for f in self.fields if f not in values]
        if missing:
            raise TypeError(f"{type(self).__name__} is missing {missing}")
        for name, typ in zip(self.fields, self.abi_types):
            values[name] = _normalize(typ, values[name])
            setattr(self, name, values[name])
        self.values: dict[str, Any] = values
        self.pre_check = pre_check
        # Exception's constructor, not the next base's: the CommitmentVerifier reverts also derive
        # from the commitment-board errors, whose constructors take the fields, not a message.
        Exception.__init__(self, self._message())

    def _message(self) -> str:
        shown = {k: _show(v) for k, v in self.values.items()}
        return self.template.format(solidity_name=self.solidity_name, **shown, **self._extra())

    def _extra(self) -> dict[str, str]:
        return {}

    def to_json(self) -> dict[str, Any]:
        """``{"error", "args", "message", "preCheck"}`` with JSON-friendly values."""
        return {
            "error": self.solidity_name or type(self).__name__,
            "args": {k: _show(v) for k, v in self.values.items()},
            "message": str(self),
            "preCheck": self.pre_check,
        }


def _normalize(abi_type: str, value: Any) -> Any:
    if abi_type == "address":
        return to_checksum_address(value)
    if abi_type.startswith("bytes") and isinstance(value, str):
        return bytes.fromhex(value.removeprefix("0x"))
    return value


def _show(value: Any) -> Any:
    if isinstance(value, (bytes, bytearray)):
        return "0x" + bytes(value).hex()
    return value


class TaskRegistryRevert(ContractRevertError):
    """A revert of ``TaskRegistry``."""


class CommitmentVerifierRevert(ContractRevertError):
    """A revert of ``CommitmentVerifier``."""


class AccessControlRevert(ContractRevertError):
    """A revert of OpenZeppelin ``AccessControl`` (inherited by ``TaskRegistry``)."""


# -- TaskRegistry


class LengthMismatchError(TaskRegistryRevert):
    """Two arrays that must be parallel have different lengths."""

    expected: int
    actual: int


class InvalidLevelError(TaskRegistryRevert):
    """A level outside 1..numLevels."""

    level: int
    numLevels: int


class InvalidLevelCountError(TaskRegistryRevert):
    """The registry was constructed with fewer than 2 levels."""

    numLevels: int


class EmptyBatchError(TaskRegistryRevert):
    """An empty batch or task."""



class BatchTooLargeError(TaskRegistryRevert):
    """A batch or task larger than its documented maximum."""

    size: int
    maximum: int


class ZeroAddressError(TaskRegistryRevert):
    """A zero address where an account is needed."""

    position: int


class ZeroHashError(TaskRegistryRevert):
    """A zero subtask hash or data hash."""

    position: int


class UnknownTaskError(TaskRegistryRevert):
    """A task id that was never issued."""

    taskId: int


class IndexOutOfRangeError(TaskRegistryRevert):
    """A subtask index not below the task's subtask count."""

    taskId: int
    index: int
    count: int

    def _extra(self) -> dict[str, str]:
        return {"last": str(int(self.values["count"]) - 1)}


class TaskClosedError(TaskRegistryRevert):
    """A state-changing call on a closed task."""

    taskId: int


class NotRegisteredError(TaskRegistryRevert):
    """A claim by an account without a level."""

    receiver: str


class LevelMismatchError(TaskRegistryRevert):
    """The receiver's level differs from the subtask's level."""

    receiver: str
    required: int
    actual: int


class AlreadyClaimedError(TaskRegistryRevert):
    """The subtask has a claimant already."""

    taskId: int
    index: int
    claimant: str


class AlreadyHoldsSubtaskError(TaskRegistryRevert):
    """The receiver already holds another subtask of the same task."""

    taskId: int
    receiver: str
    heldIndex: int


class NotClaimantError(TaskRegistryRevert):
    """Someone other than the claimant submits data."""

    taskId: int
    index: int
    caller: str


class DataAlreadySubmittedError(TaskRegistryRevert):
    """Data was already submitted for the subtask."""

    taskId: int
    index: int


class NotReleaserError(TaskRegistryRevert):
    """Someone other than the task's releaser closes it."""

    taskId: int
    caller: str


class InvalidEncryptionKeyError(TaskRegistryRevert):
    """A claim's encryption key is zero or not below the secp256k1 field prime."""

    encryptionKey: bytes


class NoLevelsRootError(TaskRegistryRevert):
    """A claim by proof targets a task released before any levels root was published."""

    taskId: int


class InvalidLevelProofError(TaskRegistryRevert):
    """A level proof does not lead to the levels root of the task's epoch."""

    taskId: int
    epoch: int
    receiver: str
    level: int


class SelectionRequiredError(TaskRegistryRevert):
    """A task released for selection is claimed without a selection proof."""

    taskId: int


class NotForSelectionError(TaskRegistryRevert):
    """A selection is set for, or claimed in, a task not released for one."""

    taskId: int


class SelectionPendingError(TaskRegistryRevert):
    """A task released for selection is claimed before its selection is fixed."""

    taskId: int


class SelectionAlreadySetError(TaskRegistryRevert):
    """A task's selection is set a second time."""

    taskId: int
    root: bytes


class NotSelectedError(TaskRegistryRevert):
    """A selection proof does not lead to the task's selection root."""

    taskId: int
    receiver: str


# -- AccessControl


class UnauthorizedAccountError(AccessControlRevert):
    """The caller lacks the role the function needs."""

    account: str
    neededRole: bytes

    def _extra(self) -> dict[str, str]:
        role = self.values["neededRole"]
        return {"role_name": ROLE_NAMES.get(role, "role 0x" + role.hex())}

    @property
    def role_name(self) -> str:
        return self._extra()["role_name"]


class BadConfirmationError(AccessControlRevert):
    """``renounceRole`` called for another account."""



# -- CommitmentVerifier (each rule's revert is also the commitment-board error of the same name)


class InvalidAgesError(CommitmentVerifierRevert):
    """Inconsistent deployment ages."""

    minAge: int
    maxAge: int


class ZeroCommitmentError(CommitmentVerifierRevert, board_errors.ZeroCommitmentError):
    """A zero commitment hash."""



class AlreadyCommittedError(CommitmentVerifierRevert, board_errors.AlreadyCommittedError):
    """The commitment hash was recorded before."""

    commitment: bytes


class CommitmentNotFoundError(CommitmentVerifierRevert, board_errors.CommitmentNotFoundError):
    """No commitment of that kind under the hash."""

    commitment: bytes


class AlreadyRevealedError(CommitmentVerifierRevert, board_errors.AlreadyRevealedError):
    """The commitment was opened already."""

    commitment: bytes


class CommitmentTooNewError(CommitmentVerifierRevert):
    """The commitment is younger than minAge."""

    commitment: bytes
    committedAt: int
    timestamp: int


class CommitmentTooOldError(CommitmentVerifierRevert):
    """The commitment is older than maxAge."""

    commitment: bytes
    committedAt: int
    timestamp: int


class OpeningMismatchError(CommitmentVerifierRevert, board_errors.OpeningMismatchError):
    """The opening does not hash to the commitment."""

    commitment: bytes
    computed: bytes


class InvalidPayloadLengthError(CommitmentVerifierRevert, board_errors.InvalidPayloadLengthError):
    """An empty or too long bit-commitment payload."""

    length: int
    maximum: int


# -- Solidity built-ins and the unknown


class RevertStringError(ContractRevertError):
    """``Error(string)``: a ``require`` with a message (none in these contracts)."""

    solidity_name = "Error"
    template = "reverted: {reason}"
    reason: str


class PanicError(ContractRevertError):
    """``Panic(uint256)``: an assertion, overflow or similar bug."""

    solidity_name = "Panic"
    template = "contract panic with code {code:#x}"
    code: int


class UnknownRevertError(ContractRevertError):
    """Revert data that matches no known selector (or no data at all)."""

    solidity_name = ""
    template = "transaction reverted: {detail}"
    detail: str


#: Every error of the contracts' ABIs: its class -> (Solidity name, ``str.format`` template of
#: the message over the error's parameters). The parameter names and types are read from the
#: shipped ABIs at import (:func:`_build_selector_table`).
_CONTRACT_ERRORS: dict[type[ContractRevertError], tuple[str, str]] = {
    LengthMismatchError: ("TaskRegistryLengthMismatch",
                          "length mismatch: {expected} entries in the first array, {actual} in the second"),
    InvalidLevelError: ("TaskRegistryInvalidLevel",
                        "invalid level {level}: levels are 1..{numLevels}"),
    InvalidLevelCountError: ("TaskRegistryInvalidLevelCount",
                             "invalid number of levels {numLevels}: at least 2 are needed"),
    EmptyBatchError: ("TaskRegistryEmptyBatch",
                      "empty batch: at least one entry is needed"),
    BatchTooLargeError: ("TaskRegistryBatchTooLarge",
                         "batch too large: {size} entries, at most {maximum} allowed"),
    ZeroAddressError: ("TaskRegistryZeroAddress",
                       "zero address at position {position}"),
    ZeroHashError: ("TaskRegistryZeroHash",
                    "zero hash at position {position}"),
    UnknownTaskError: ("TaskRegistryUnknownTask",
                       "unknown task {taskId}: no task with this id was released"),
    IndexOutOfRangeError: ("TaskRegistryIndexOutOfRange",
                           "subtask index {index} out of range: "
                           "task {taskId} has {count} subtasks (0..{last})"),
    TaskClosedError: ("TaskRegistryTaskClosed",
                      "task {taskId} is closed"),
    NotRegisteredError: ("TaskRegistryNotRegistered",
                         "receiver {receiver} is not registered (level 0): "
                         "the registrar must set its level first"),
    LevelMismatchError: ("TaskRegistryLevelMismatch",
                         "level mismatch: subtask needs level {required}, "
                         "receiver {receiver} has level {actual}"),
    AlreadyClaimedError: ("TaskRegistryAlreadyClaimed",
                          "subtask {index} of task {taskId} is already claimed by {claimant}"),
    AlreadyHoldsSubtaskError: ("TaskRegistryAlreadyHoldsSubtask",
                               "receiver {receiver} already holds subtask {heldIndex} of task {taskId}: "
                               "a receiver may hold only one subtask per task"),
    NotClaimantError: ("TaskRegistryNotClaimant",
                       "{caller} is not the claimant of subtask {index} of task {taskId}"),
    DataAlreadySubmittedError: ("TaskRegistryDataAlreadySubmitted",
                                "data for subtask {index} of task {taskId} was already submitted"),
    NotReleaserError: ("TaskRegistryNotReleaser",
                       "{caller} is not the releaser of task {taskId}"),
    InvalidEncryptionKeyError: ("TaskRegistryInvalidEncryptionKey",
                                "invalid encryption key {encryptionKey} in the claim: "
                                "expected the x-coordinate of a secp256k1 point (non-zero, below the field prime)"),
    NoLevelsRootError: ("TaskRegistryNoLevelsRoot",
                        "task {taskId} was released before any levels root: "
                        "claim it with a level registered by setLevels"),
    InvalidLevelProofError: ("TaskRegistryInvalidLevelProof",
                             "the level proof of {receiver} at level {level} does not lead to the levels root "
                             "of epoch {epoch} (task {taskId}): expected the proof of that epoch from the registrar"),
    SelectionRequiredError: ("TaskRegistrySelectionRequired",
                             "task {taskId} was released for selection: "
                             "expected a claim with the selection proof the platform gave"),
    NotForSelectionError: ("TaskRegistryNotForSelection",
                           "task {taskId} was not released for selection: expected a plain claim (no selection)"),
    SelectionPendingError: ("TaskRegistrySelectionPending",
                            "the receivers of task {taskId} are not selected yet: "
                            "expected a claim after the platform fixed the selection"),
    SelectionAlreadySetError: ("TaskRegistrySelectionAlreadySet",
                               "the selection of task {taskId} is already fixed (root {root}): "
                               "expected one selection per task"),
    NotSelectedError: ("TaskRegistryNotSelected",
                       "{receiver} is not among the selected receivers of task {taskId}: "
                       "expected the selection proof the platform gave this account for this task"),
    UnauthorizedAccountError: ("AccessControlUnauthorizedAccount",
                               "not authorized: {account} does not have {role_name}"),
    BadConfirmationError: ("AccessControlBadConfirmation",
                           "bad confirmation: an account can only renounce its own roles"),
    InvalidAgesError: ("CommitmentVerifierInvalidAges",
                       "invalid commitment ages: minAge {minAge} s, maxAge {maxAge} s "
                       "(need 0 < maxAge and minAge <= maxAge)"),
    ZeroCommitmentError: ("CommitmentVerifierZeroCommitment",
                          "zero commitment hash"),
    AlreadyCommittedError: ("CommitmentVerifierAlreadyCommitted",
                            "commitment {commitment} was already recorded by this account "
                            "(an account commits a hash once, ever)"),
    CommitmentNotFoundError: ("CommitmentVerifierNotFound",
                              "no commitment {commitment} is recorded by this account"),
    AlreadyRevealedError: ("CommitmentVerifierAlreadyRevealed",
                           "commitment {commitment} was already opened"),
    CommitmentTooNewError: ("CommitmentVerifierTooNew",
                            "commitment {commitment} is too new to open: "
                            "committed at {committedAt}, now {timestamp}"),
    CommitmentTooOldError: ("CommitmentVerifierTooOld",
                            "commitment {commitment} is too old to open: "
                            "committed at {committedAt}, now {timestamp}"),
    OpeningMismatchError: ("CommitmentVerifierOpeningMismatch",
                           "opening does not match commitment {commitment} (it hashes to {computed})"),
    InvalidPayloadLengthError: ("CommitmentVerifierInvalidPayloadLength",
                                "invalid payload length {length}: must be 1..{maximum} bytes"),
}
REVERT_CLASSES: tuple[type[ContractRevertError], ...] = tuple(_CONTRACT_ERRORS)

_BUILTINS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "Error": (("string",), ("reason",)),
    "Panic": (("uint256",), ("code",)),
}
UnknownRevertError.abi_types = ("string",)
UnknownRevertError.fields = ("detail",)


def error_selector(name: str, types: tuple[str, ...]) -> bytes:
    """First 4 bytes of ``keccak256("Name(type1,type2)")``, as Solidity computes it."""
    return keccak(text=f"{name}({','.join(types)})")[:4]


def _load_abi_errors() -> dict[str, tuple[tuple[str, ...], tuple[str, ...]]]:
    from crowdsense.chain.deployment import CONTRACT_NAMES, load_abi

    found: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {}
    for contract in CONTRACT_NAMES:
        for item in load_abi(contract):
            if item.get("type") == "error":
                types = tuple(i["type"] for i in item["inputs"])
                names = tuple(i["name"] for i in item["inputs"])
                found[item["name"]] = (types, names)
    return found


def _build_selector_table() -> dict[bytes, type[ContractRevertError]]:
    abi_errors = _load_abi_errors() | _BUILTINS
    for cls, (name, template) in _CONTRACT_ERRORS.items():
        cls.solidity_name, cls.template = name, template
    table: dict[bytes, type[ContractRevertError]] = {}
    for cls in (*REVERT_CLASSES, RevertStringError, PanicError):
        if cls.solidity_name not in abi_errors:
            # The ABI changed under us: fail loudly at import rather than mis-decode later.
            raise ImportError(f"error {cls.solidity_name} of {cls.__name__} is not in the shipped ABIs")
        cls.abi_types, cls.fields = abi_errors[cls.solidity_name]
        table[error_selector(cls.solidity_name, cls.abi_types)] = cls
    return table


#: 4-byte selector -> class.
_SELECTORS: dict[bytes, type[ContractRevertError]] = _build_selector_table()
