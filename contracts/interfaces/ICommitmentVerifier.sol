// SPDX-License-Identifier: MIT
pragma solidity ^0.8.20;

/// @title ICommitmentVerifier
/// @notice On-chain commitments of LDPF.
///
/// * **Bit commitment** (CTBC, Protocol 1; Schneier's one-way-function scheme): the committer
///   draws random r1, r2 and publishes c = keccak256(abi.encodePacked(r1, r2, payload)) with r1.
///   To open, it gives r2 and the payload (its uploaded data UD); anyone can recompute c.
/// * **Blinding commitment** (PDC, Protocol 2): the committer publishes
///   c = keccak256(abi.encode(r, salt)) for its blinding value r and a random 32-byte salt (the
///   salt keeps a short r from being found by trying every value); to open, it gives r and salt.
///
/// Policy, the same for both kinds:
/// * ownership: a commitment is recorded under (committer, hash), as ENS binds a commitment to its
///   sender. Only the committer's own record can be opened by it, so a copied commitment (for
///   example a pending commitBit front-run with a higher fee) is the copier's record and leaves the
///   victim's commit and opening untouched;
/// * re-commit: an account can record a hash once, ever. A second commit of the same hash by the
///   same account, in any state, reverts, so an opening can never be replayed;
/// * reveal-once: a committer opens its record once; the record then stays, marked revealed;
/// * ageing: an opening is accepted only when minAge <= now - committedAt <= maxAge (seconds,
///   fixed at deployment); outside that window it reverts with TooNew / TooOld.
interface ICommitmentVerifier {
    // ------------------------------------------------------------------ errors

    /// @notice Thrown when the deployment ages are inconsistent (minAge > maxAge or maxAge = 0).
    error CommitmentVerifierInvalidAges(uint64 minAge, uint64 maxAge);

    /// @notice Thrown when the commitment hash is zero.
    error CommitmentVerifierZeroCommitment();

    /// @notice Thrown when the caller has recorded this commitment hash before.
    error CommitmentVerifierAlreadyCommitted(bytes32 commitment);

    /// @notice Thrown when the caller has no commitment of that kind under the hash.
    error CommitmentVerifierNotFound(bytes32 commitment);

    /// @notice Thrown when the caller's commitment has already been opened.
    error CommitmentVerifierAlreadyRevealed(bytes32 commitment);

    /// @notice Thrown when the commitment is younger than minAge.
    error CommitmentVerifierTooNew(bytes32 commitment, uint256 committedAt, uint256 timestamp);

    /// @notice Thrown when the commitment is older than maxAge.
    error CommitmentVerifierTooOld(bytes32 commitment, uint256 committedAt, uint256 timestamp);

    /// @notice Thrown when the opening does not hash to the commitment.
    error CommitmentVerifierOpeningMismatch(bytes32 commitment, bytes32 computed);

    /// @notice Thrown when a bit-commitment payload is empty or longer than MAX_PAYLOAD.
    error CommitmentVerifierInvalidPayloadLength(uint256 length, uint256 maximum);

    // ------------------------------------------------------------------ events

    /// @notice Emitted when a bit commitment and its r1 are published.
    event BitCommitted(bytes32 indexed commitment, address indexed committer, bytes32 r1);

    /// @notice Emitted when a bit commitment is opened; `payload` is the committed UD.
    event BitRevealed(bytes32 indexed commitment, address indexed committer, bytes payload);

    /// @notice Emitted when a commitment to a blinding value is published.
    event BlindingCommitted(bytes32 indexed commitment, address indexed committer);

    /// @notice Emitted when a blinding commitment is opened with its value r.
    event BlindingRevealed(bytes32 indexed commitment, address indexed committer, uint256 r);

    // --------------------------------------------------------------- functions

    /// @notice keccak256(abi.encodePacked(r1, r2, payload)): the CTBC bit commitment.
    function makeBitCommitment(bytes32 r1, bytes32 r2, bytes calldata payload) external pure returns (bytes32);

    /// @notice keccak256(abi.encode(r, salt)): the PDC commitment to a blinding value.
    function makeBlindingCommitment(uint256 r, bytes32 salt) external pure returns (bytes32);

    /// @notice Publish a bit commitment `commitment` together with its r1.
    function commitBit(bytes32 commitment, bytes32 r1) external;

    /// @notice Open the caller's own bit commitment with r2 and the payload.
    function revealBit(bytes32 commitment, bytes32 r2, bytes calldata payload) external;

    /// @notice Publish a commitment to a blinding value.
    function commitBlinding(bytes32 commitment) external;

    /// @notice Open the caller's own blinding commitment with r and the salt.
    function revealBlinding(bytes32 commitment, uint256 r, bytes32 salt) external;

    /// @notice `committer`'s record of a bit commitment (`recorded` false and zeros if none).
    function bitCommitment(address committer, bytes32 commitment)
        external
        view
        returns (bool recorded, uint64 committedAt, bytes32 r1, bool revealed);

    /// @notice `committer`'s record of a blinding commitment (`recorded` false and zeros if none).
    function blindingCommitment(address committer, bytes32 commitment)
        external
        view
        returns (bool recorded, uint64 committedAt, bool revealed);

    /// @notice Whether (r2, payload) opens `committer`'s recorded bit commitment, without recording anything.
    function checkBitOpening(address committer, bytes32 commitment, bytes32 r2, bytes calldata payload)
        external
        view
        returns (bool);

    /// @notice Whether (r, salt) opens `committer`'s recorded blinding commitment, without recording anything.
    function checkBlindingOpening(address committer, bytes32 commitment, uint256 r, bytes32 salt)
        external
        view
        returns (bool);
}
