// SPDX-License-Identifier: MIT
pragma solidity 0.8.24;

import {ICommitmentVerifier} from "./interfaces/ICommitmentVerifier.sol";

/// @title CommitmentVerifier
/// @notice LDPF's commitments: the CTBC bit commitment and the PDC commitment to a blinding value,
/// recorded and opened on chain (policy in ICommitmentVerifier).
/// @dev No privileged functions: anyone may commit, only the committer may open its own.
contract CommitmentVerifier is ICommitmentVerifier {
    // ----------------------------------------------------------------- storage

    /// @notice Largest bit-commitment payload, in bytes.
    uint256 public constant MAX_PAYLOAD = 1024;

    struct Record {
        address committer; // zero <=> no record
        uint64 committedAt;
        bool revealed;
    }

    /// @notice Youngest age (seconds) at which a commitment may be opened.
    uint64 public immutable minAge;

    /// @notice Oldest age (seconds) at which a commitment may still be opened.
    uint64 public immutable maxAge;

    mapping(bytes32 commitment => Record) private _bits;
    mapping(bytes32 commitment => bytes32 r1) private _bitR1;
    mapping(bytes32 commitment => Record) private _blindings;

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
        _record(_bits, commitment);
        _bitR1[commitment] = r1;
        emit BitCommitted(commitment, msg.sender, r1);
    }

    /// @inheritdoc ICommitmentVerifier
    function revealBit(bytes32 commitment, bytes32 r2, bytes calldata payload) external {
        if (payload.length == 0 || payload.length > MAX_PAYLOAD) {
            revert CommitmentVerifierInvalidPayloadLength(payload.length, MAX_PAYLOAD);
        }
        Record storage rec = _openable(_bits, commitment);
        bytes32 computed = makeBitCommitment(_bitR1[commitment], r2, payload);
        if (computed != commitment) revert CommitmentVerifierOpeningMismatch(commitment, computed);

        rec.revealed = true;
        emit BitRevealed(commitment, msg.sender, payload);
    }

    /// @inheritdoc ICommitmentVerifier
    function commitBlinding(bytes32 commitment) external {
        _record(_blindings, commitment);
        emit BlindingCommitted(commitment, msg.sender);
    }

    /// @inheritdoc ICommitmentVerifier
    function revealBlinding(bytes32 commitment, uint256 r, bytes32 salt) external {
        Record storage rec = _openable(_blindings, commitment);
        bytes32 computed = makeBlindingCommitment(r, salt);
        if (computed != commitment) revert CommitmentVerifierOpeningMismatch(commitment, computed);

        rec.revealed = true;
        emit BlindingRevealed(commitment, msg.sender, r);
    }

    /// @inheritdoc ICommitmentVerifier
    function bitCommitment(bytes32 commitment)
        external
        view
        returns (address committer, uint64 committedAt, bytes32 r1, bool revealed)
    {
        Record storage rec = _bits[commitment];
        return (rec.committer, rec.committedAt, _bitR1[commitment], rec.revealed);
    }

    /// @inheritdoc ICommitmentVerifier
    function blindingCommitment(bytes32 commitment)
        external
        view
        returns (address committer, uint64 committedAt, bool revealed)
    {
        Record storage rec = _blindings[commitment];
        return (rec.committer, rec.committedAt, rec.revealed);
    }

    /// @inheritdoc ICommitmentVerifier
    function checkBitOpening(bytes32 commitment, bytes32 r2, bytes calldata payload) external view returns (bool) {
        return _bits[commitment].committer != address(0)
            && makeBitCommitment(_bitR1[commitment], r2, payload) == commitment;
    }

    /// @inheritdoc ICommitmentVerifier
    function checkBlindingOpening(bytes32 commitment, uint256 r, bytes32 salt) external view returns (bool) {
        return _blindings[commitment].committer != address(0) && makeBlindingCommitment(r, salt) == commitment;
    }

    // ---------------------------------------------------------------- internal

    function _record(mapping(bytes32 => Record) storage records, bytes32 commitment) private {
        if (commitment == bytes32(0)) revert CommitmentVerifierZeroCommitment();
        if (records[commitment].committer != address(0)) revert CommitmentVerifierAlreadyCommitted(commitment);
        records[commitment] = Record({committer: msg.sender, committedAt: uint64(block.timestamp), revealed: false});
    }

    /// @dev The record under `commitment`, after checking it exists, belongs to the caller, is
    /// unopened and is inside the age window.
    function _openable(mapping(bytes32 => Record) storage records, bytes32 commitment)
        private
        view
        returns (Record storage rec)
    {
        rec = records[commitment];
        address committer = rec.committer;
        if (committer == address(0)) revert CommitmentVerifierNotFound(commitment);
        if (committer != msg.sender) revert CommitmentVerifierNotCommitter(commitment, msg.sender);
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
