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

    // ------------------------------------------------------------------ events

    /// @notice Emitted for each account whose level is set or cleared (level 0 = unregistered).
    event LevelSet(address indexed user, uint8 level, address indexed registrar);

    /// @notice Emitted once per released task.
    event TaskReleased(uint256 indexed taskId, address indexed releaser, uint256 subtaskCount);

    /// @notice Emitted for each subtask of a released task; `level` is indexed so a receiver
    /// can list the subtasks of its own level with one log filter.
    event SubtaskReleased(uint256 indexed taskId, uint8 indexed level, uint256 index, bytes32 subtaskHash);

    /// @notice Emitted when a receiver claims a subtask.
    event SubtaskClaimed(uint256 indexed taskId, uint256 indexed index, address indexed claimant, uint8 level);

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

    /// @notice Release a task (releaser role only). Returns the new task id.
    function releaseTask(bytes32[] calldata subtaskHashes, uint8[] calldata levels) external returns (uint256 taskId);

    /// @notice Claim subtask `index` of `taskId` for the caller.
    function claimSubtask(uint256 taskId, uint256 index) external;

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

    /// @notice Whether `receiver` holds a subtask of `taskId`, and which.
    function heldSubtask(uint256 taskId, address receiver) external view returns (bool holds, uint256 index);
}
