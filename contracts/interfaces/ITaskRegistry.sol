// SPDX-License-Identifier: MIT
pragma solidity ^0.8.20;

/// @title ITaskRegistry
/// @notice Level-gated registry of crowdsensing tasks (PMCB). A task is a list of subtasks, each
/// identified on chain only by the keccak256 hash of its (off-chain, encrypted) description and
/// by the security level 1..numLevels a receiver must hold to claim it. A receiver may hold at
/// most one subtask of any task, so no single receiver ever sees two parts of one task.
interface ITaskRegistry {
    // ------------------------------------------------------------------ errors

    /// @notice Thrown when two arrays that must be parallel have different lengths.
    error TaskRegistryLengthMismatch(uint256 expected, uint256 actual);

    /// @notice Thrown when a level is outside 1..numLevels.
    error TaskRegistryInvalidLevel(uint8 level, uint8 numLevels);

    /// @notice Thrown when the registry is constructed with fewer than 2 levels.
    error TaskRegistryInvalidLevelCount(uint8 numLevels);

    /// @notice Thrown when a batch or a task is empty.
    error TaskRegistryEmptyBatch();

    /// @notice Thrown when a batch or a task exceeds its documented maximum size.
    error TaskRegistryBatchTooLarge(uint256 size, uint256 maximum);

    /// @notice Thrown when a zero address would be given a level.
    error TaskRegistryZeroAddress(uint256 position);

    /// @notice Thrown when a subtask hash (or a data hash) is zero.
    error TaskRegistryZeroHash(uint256 position);

    /// @notice Thrown when a task id was never issued.
    error TaskRegistryUnknownTask(uint256 taskId);

    /// @notice Thrown when a subtask index is not below the task's subtask count.
    error TaskRegistryIndexOutOfRange(uint256 taskId, uint256 index, uint256 count);

    /// @notice Thrown when a state-changing call targets a closed task.
    error TaskRegistryTaskClosed(uint256 taskId);

    /// @notice Thrown when an unregistered account (level 0) tries to claim.
    error TaskRegistryNotRegistered(address receiver);

    /// @notice Thrown when the receiver's level differs from the subtask's level.
    error TaskRegistryLevelMismatch(address receiver, uint8 required, uint8 actual);

    /// @notice Thrown when the subtask already has a claimant.
    error TaskRegistryAlreadyClaimed(uint256 taskId, uint256 index, address claimant);

    /// @notice Thrown when the receiver already holds another subtask of the same task.
    error TaskRegistryAlreadyHoldsSubtask(uint256 taskId, address receiver, uint256 heldIndex);

    /// @notice Thrown when someone other than the subtask's claimant submits data.
    error TaskRegistryNotClaimant(uint256 taskId, uint256 index, address caller);

    /// @notice Thrown when data was already submitted for the subtask.
    error TaskRegistryDataAlreadySubmitted(uint256 taskId, uint256 index);

    /// @notice Thrown when someone other than the task's releaser closes it.
    error TaskRegistryNotReleaser(uint256 taskId, address caller);

    /// @notice Thrown when a claim's encryption key is zero or not below the secp256k1 field prime.
    error TaskRegistryInvalidEncryptionKey(bytes32 encryptionKey);

    /// @notice Thrown when a claim by proof targets a task released before any levels root.
    error TaskRegistryNoLevelsRoot(uint256 taskId);

    /// @notice Thrown when a level proof does not lead from the caller's (account, level) leaf to
    /// the levels root of the task's epoch.
    error TaskRegistryInvalidLevelProof(uint256 taskId, uint32 epoch, address receiver, uint8 level);

    /// @notice Thrown when a task released for selection is claimed without a selection proof.
    error TaskRegistrySelectionRequired(uint256 taskId);

    /// @notice Thrown when a selection is set, or claimed with, for a task not released for one.
    error TaskRegistryNotForSelection(uint256 taskId);

    /// @notice Thrown when a task's receivers are claimed before the selector fixed them.
    error TaskRegistrySelectionPending(uint256 taskId);

    /// @notice Thrown when a task's selection is set a second time.
    error TaskRegistrySelectionAlreadySet(uint256 taskId, bytes32 root);

    /// @notice Thrown when a selection proof does not lead from the caller's leaf to the task's
    /// selection root.
    error TaskRegistryNotSelected(uint256 taskId, address receiver);

    // ------------------------------------------------------------------ events

    /// @notice Emitted for each account whose level is set or cleared (level 0 = unregistered).
    event LevelSet(address indexed user, uint8 level, address indexed registrar);

    /// @notice Emitted once per released task.
    event TaskReleased(uint256 indexed taskId, address indexed releaser, uint256 subtaskCount);

    /// @notice Emitted when the registrar publishes the levels root of a new epoch.
    event LevelsRootSet(uint32 indexed epoch, bytes32 root, address indexed registrar);

    /// @notice Emitted for each subtask of a released task; `level` is indexed so a receiver
    /// can list the subtasks of its own level with one log filter.
    event SubtaskReleased(uint256 indexed taskId, uint8 indexed level, uint256 index, bytes32 subtaskHash);

    /// @notice Emitted when a receiver claims a subtask.
    /// @param encryptionKey the claimant's encryption key (x-coordinate of a secp256k1 point with
    /// even y): the releaser encrypts the subtask's key to it.
    event SubtaskClaimed(
        uint256 indexed taskId, uint256 indexed index, address indexed claimant, uint8 level, bytes32 encryptionKey
    );

    /// @notice Emitted when the selector fixes the receivers that may claim a task's subtasks.
    event SelectionSet(uint256 indexed taskId, bytes32 root, address indexed selector);

    /// @notice Emitted when the claimant submits the hash of its sensing data.
    event DataSubmitted(uint256 indexed taskId, uint256 indexed index, address indexed claimant, bytes32 dataHash);

    /// @notice Emitted when the releaser closes a task.
    event TaskClosed(uint256 indexed taskId, address indexed releaser);

    // --------------------------------------------------------------- functions

    /// @notice Number of security levels T; valid levels are 1..T.
    function numLevels() external view returns (uint8);

    /// @notice Level of `user`; 0 means unregistered.
    function levelOf(address user) external view returns (uint8);

    /// @notice Set the levels of `users` (registrar only); every level must be in 1..numLevels.
    function setLevels(address[] calldata users, uint8[] calldata levels) external;

    /// @notice Unregister `users` (registrar only): their level becomes 0. Subtasks they already
    /// hold stay theirs.
    function clearLevels(address[] calldata users) external;

    /// @notice Publish the Merkle root of the (receiver, level) leaves of a new epoch (registrar
    /// only) and return the epoch (1, 2, ...). Tasks released from now on are claimed with proofs
    /// against this root; tasks released earlier keep the root of their own epoch, so a
    /// re-classification never breaks a task in progress. A receiver left out of the new root
    /// can no longer claim subtasks of new tasks by proof.
    /// @dev Leaves are `keccak256(bytes.concat(keccak256(abi.encode(domain, receiver, level, salt))))`
    /// with `domain = keccak256(abi.encode(block.chainid, address(this)))`: double-hashed, bound to
    /// this chain and registry, and salted with a secret per receiver (a claim's proof shows other
    /// receivers' leaves, which must not be testable against guessed levels). Inner nodes hash
    /// their two children in ascending order (OpenZeppelin `MerkleProof`). Nothing on chain names
    /// a receiver or its level until the receiver claims.
    function setLevelsRoot(bytes32 root) external returns (uint32 epoch);

    /// @notice Release a task (releaser role only). Returns the new task id.
    function releaseTask(bytes32[] calldata subtaskHashes, uint8[] calldata levels) external returns (uint256 taskId);

    /// @notice Release a task whose subtasks only receivers selected for it may claim (releaser
    /// role only): until the selector fixes the selection (`setSelection`) nobody can claim, and
    /// then only with `claimSelectedSubtask`. Returns the new task id.
    function releaseTaskForSelection(bytes32[] calldata subtaskHashes, uint8[] calldata levels)
        external
        returns (uint256 taskId);

    /// @notice Fix the receivers that may claim the subtasks of `taskId` (selector role only, once
    /// per task, while it is open): `root` is the Merkle root of the selected receivers' leaves.
    /// @dev Leaves are `keccak256(bytes.concat(keccak256(abi.encode(domain, taskId, receiver, salt))))`
    /// with the levels' `domain`; each selected receiver learns its salt and proof from the
    /// selector off chain. Salted, so a claim's proof (which shows other leaves) does not tell who
    /// else was selected; nothing on chain names a selected receiver until it claims.
    function setSelection(uint256 taskId, bytes32 root) external;

    /// @notice Claim subtask `index` of `taskId` for the caller, publishing the key the subtask's
    /// key is to be encrypted to.
    /// @dev The key travels in the claim, not in the signature of the claim transaction, so that
    /// claimants of every account type (contract wallets, relayed or delegated accounts) receive
    /// their keys. The contract checks that it is a non-zero field element; the releaser's client
    /// checks that it is a point of the curve and reports a claim whose key is not.
    /// @param encryptionKey x-coordinate of the claimant's secp256k1 encryption key (even y).
    function claimSubtask(uint256 taskId, uint256 index, bytes32 encryptionKey) external;

    /// @notice Claim subtask `index` of `taskId` with a proof of the caller's `level` in the
    /// levels root of the task's epoch (see `setLevelsRoot`); otherwise as `claimSubtask`, and the
    /// same rules apply (the proven level must equal the subtask's, one subtask per task, open task).
    /// @param salt the caller's secret leaf salt (published by this claim, its own only).
    /// @param proof sibling hashes from the caller's leaf up to the root, at most MAX_PROOF_DEPTH.
    function claimSubtaskWithProof(
        uint256 taskId,
        uint256 index,
        bytes32 encryptionKey,
        uint8 level,
        bytes32 salt,
        bytes32[] calldata proof
    ) external;

    /// @notice Claim subtask `index` of a task released for selection: the caller proves it is
    /// among the task's selected receivers, and its level either by the registered mapping
    /// (`level` 0: the level `setLevels` gave it) or by a proof against the task's levels root
    /// (`level` 1..numLevels with `salt` and `levelProof`, as `claimSubtaskWithProof`). The
    /// claim rules are those of `claimSubtask`.
    /// @param selectionSalt the caller's secret salt of its selection leaf.
    /// @param selectionProof sibling hashes from the caller's selection leaf up to the task's
    /// selection root, at most MAX_PROOF_DEPTH.
    function claimSelectedSubtask(
        uint256 taskId,
        uint256 index,
        bytes32 encryptionKey,
        uint8 level,
        bytes32 salt,
        bytes32[] calldata levelProof,
        bytes32 selectionSalt,
        bytes32[] calldata selectionProof
    ) external;

    /// @notice Record the hash of the sensing data for a claimed subtask (claimant only).
    function submitData(uint256 taskId, uint256 index, bytes32 dataHash) external;

    /// @notice Close a task so that nothing more can be claimed or submitted (releaser only).
    function closeTask(uint256 taskId) external;

    /// @notice Subtask record: hash, level, claimant (zero if unclaimed), data hash (zero if none).
    function getSubtask(uint256 taskId, uint256 index)
        external
        view
        returns (bytes32 subtaskHash, uint8 level, address claimant, bytes32 dataHash);

    /// @notice Number of subtasks of `taskId`.
    function subtaskCount(uint256 taskId) external view returns (uint256);

    /// @notice Releaser, subtask count and closed flag of `taskId`.
    function getTask(uint256 taskId) external view returns (address releaser, uint256 count, bool closed);

    /// @notice Number of tasks released so far; task ids are 0..taskCount()-1.
    function taskCount() external view returns (uint256);

    /// @notice The current levels epoch (0 before the first root).
    function levelsEpoch() external view returns (uint32);

    /// @notice The levels root of `epoch` (zero for an epoch that does not exist).
    function levelsRoot(uint32 epoch) external view returns (bytes32);

    /// @notice The levels epoch a task was released in, whose root its claims by proof use.
    function taskLevelsEpoch(uint256 taskId) external view returns (uint32);

    /// @notice The Merkle leaf of (`receiver`, `level`, `salt`) in this registry (see `setLevelsRoot`).
    function levelLeaf(address receiver, uint8 level, bytes32 salt) external view returns (bytes32);

    /// @notice Whether `receiver`, at `level` with `salt`, is under the levels root of `epoch` with `proof`.
    function verifyLevel(uint32 epoch, address receiver, uint8 level, bytes32 salt, bytes32[] calldata proof)
        external
        view
        returns (bool);

    /// @notice Whether `taskId` was released for selection, and its selection root (zero until set).
    function taskSelection(uint256 taskId) external view returns (bool forSelection, bytes32 root);

    /// @notice The selection leaf of `receiver` with `salt` for `taskId` (see `setSelection`).
    function selectionLeaf(uint256 taskId, address receiver, bytes32 salt) external view returns (bytes32);

    /// @notice Whether `receiver` with `salt` and `proof` is among the selected receivers of `taskId`.
    function verifySelection(uint256 taskId, address receiver, bytes32 salt, bytes32[] calldata proof)
        external
        view
        returns (bool);

    /// @notice Whether `receiver` holds a subtask of `taskId`, and which.
    function heldSubtask(uint256 taskId, address receiver) external view returns (bool holds, uint256 index);
}
