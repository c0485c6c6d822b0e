// SPDX-License-Identifier: MIT
pragma solidity 0.8.24;

import {ICommitmentVerifier} from "./interfaces/ICommitmentVerifier.sol";

/// @title CommitmentVerifier
/// @notice LDPF's commitments: the CTBC bit commitment and the PDC commitment to a blinding value,
/// recorded and opened on chain (policy in ICommitmentVerifier).
/// @dev No privileged functions: anyone may commit, and a commitment is recorded under its
/// committer's address, so only the committer can open it and a copy is another account's record.
contract CommitmentVerifier is ICommitmentVerifier {
    // ----------------------------------------------------------------- storage

    /// @notice Largest bit-commitment payload, in bytes.
    uint256 public constant MAX_PAYLOAD = 1024;

    struct Record {
        bool recorded; // false <=> no record
        bool revealed;
        uint64 committedAt;
    }

    /// @notice Youngest age (seconds) at which a commitment may be opened.
    uint64 public immutable minAge;

    /// @notice Oldest age (seconds) at which a commitment may still be opened.
    uint64 public immutable maxAge;

    mapping(address committer => mapping(bytes32 commitment => Record)) private _bits;
    mapping(address committer => mapping(bytes32 commitment => bytes32 r1)) private _bitR1;
    mapping(address committer => mapping(bytes32 commitment => Record)) private _blindings;

    // ------------------------------------------------------------- constructor

    /// @param minAge_ youngest age in seconds at which an opening is accepted (0 = same block).
    /// @param maxAge_ oldest age in seconds at which an opening is accepted (> 0, >= minAge_).
    constructor(uint64 minAge_, uint64 maxAge_) {
        if (maxAge_ == 0 || minAge_ > maxAge_) revert CommitmentVerifierInvalidAges(minAge_, maxAge_);
        minAge = minAge_;
        maxAge = maxAge_;
    }

    // ---------------------------------------------------------------- external

    /// @inheritdoc ICommitmentVerifier
    function makeBitCommitment(bytes32 r1, bytes32 r2, bytes calldata payload) public pure returns (bytes32) {
        return keccak256(abi.encodePacked(r1, r2, payload));
    }

    /// @inheritdoc ICommitmentVerifier
    function makeBlindingCommitment(uint256 r, bytes32 salt) public pure returns (bytes32) {
        return keccak256(abi.encode(r, salt));
    }

    /// @inheritdoc ICommitmentVerifier
    function commitBit(bytes32 commitment, bytes32 r1) external {
        _record(_bits[msg.sender], commitment);
        _bitR1[msg.sender][commitment] = r1;
        emit BitCommitted(commitment, msg.sender, r1);
    }

    /// @inheritdoc ICommitmentVerifier
    function revealBit(bytes32 commitment, bytes32 r2, bytes calldata payload) external {
        if (payload.length == 0 || payload.length > MAX_PAYLOAD) {
            revert CommitmentVerifierInvalidPayloadLength(payload.length, MAX_PAYLOAD);
        }
        Record storage rec = _openable(_bits[msg.sender], commitment);
        bytes32 computed = makeBitCommitment(_bitR1[msg.sender][commitment], r2, payload);
        if (computed != commitment) revert CommitmentVerifierOpeningMismatch(commitment, computed);

        rec.revealed = true;
        emit BitRevealed(commitment, msg.sender, payload);
    }

    /// @inheritdoc ICommitmentVerifier
    function commitBlinding(bytes32 commitment) external {
        _record(_blindings[msg.sender], commitment);
        emit BlindingCommitted(commitment, msg.sender);
    }

    /// @inheritdoc ICommitmentVerifier
    function revealBlinding(bytes32 commitment, uint256 r, bytes32 salt) external {
        Record storage rec = _openable(_blindings[msg.sender], commitment);
        bytes32 computed = makeBlindingCommitment(r, salt);
        if (computed != commitment) revert CommitmentVerifierOpeningMismatch(commitment, computed);

        rec.revealed = true;
        emit BlindingRevealed(commitment, msg.sender, r);
    }

    /// @inheritdoc ICommitmentVerifier
    function bitCommitment(address committer, bytes32 commitment)
        external
        view
        returns (bool recorded, uint64 committedAt, bytes32 r1, bool revealed)
    {
        Record storage rec = _bits[committer][commitment];
        return (rec.recorded, rec.committedAt, _bitR1[committer][commitment], rec.revealed);
    }

    /// @inheritdoc ICommitmentVerifier
    function blindingCommitment(address committer, bytes32 commitment)
        external
        view
        returns (bool recorded, uint64 committedAt, bool revealed)
    {
        Record storage rec = _blindings[committer][commitment];
        return (rec.recorded, rec.committedAt, rec.revealed);
    }

    /// @inheritdoc ICommitmentVerifier
    function checkBitOpening(address committer, bytes32 commitment, bytes32 r2, bytes calldata payload)
        external
        view
        returns (bool)
    {
        return _bits[committer][commitment].recorded
            && makeBitCommitment(_bitR1[committer][commitment], r2, payload) == commitment;
    }

    /// @inheritdoc ICommitmentVerifier
    function checkBlindingOpening(address committer, bytes32 commitment, uint256 r, bytes32 salt)
        external
        view
        returns (bool)
    {
        return _blindings[committer][commitment].recorded && makeBlindingCommitment(r, salt) == commitment;
    }

    // ---------------------------------------------------------------- internal

    function _record(mapping(bytes32 => Record) storage records, bytes32 commitment) private {
        if (commitment == bytes32(0)) revert CommitmentVerifierZeroCommitment();
        if (records[commitment].recorded) revert CommitmentVerifierAlreadyCommitted(commitment);
        records[commitment] = Record({recorded: true, revealed: false, committedAt: uint64(block.timestamp)});
    }

    /// @dev The caller's record under `commitment` (`records` is the caller's own table), after
    /// checking it exists, is unopened and is inside the age window.
    function _openable(mapping(bytes32 => Record) storage records, bytes32 commitment)
        private
        view
        returns (Record storage rec)
    {
        rec = records[commitment];
        if (!rec.recorded) revert CommitmentVerifierNotFound(commitment);
        if (rec.revealed) revert CommitmentVerifierAlreadyRevealed(commitment);
        uint256 committedAt = rec.committedAt;
        if (block.timestamp < committedAt + minAge) {
            revert CommitmentVerifierTooNew(commitment, committedAt, block.timestamp);
        }
        if (block.timestamp > committedAt + maxAge) {
            revert CommitmentVerifierTooOld(commitment, committedAt, block.timestamp);
        }
    }
}
