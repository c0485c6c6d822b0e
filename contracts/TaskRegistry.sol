// SPDX-License-Identifier: MIT
pragma solidity 0.8.24;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {MerkleProof} from "@openzeppelin/contracts/utils/cryptography/MerkleProof.sol";
import {ITaskRegistry} from "./interfaces/ITaskRegistry.sol";

/// @title TaskRegistry
/// @notice PMCB's on-chain access control: subtask hashes and levels, level-gated claims, at most
/// one subtask of a task per receiver.
/// @dev Levels are registered either publicly, one receiver at a time (`setLevels`), or
/// privately as one Merkle root per epoch (`setLevelsRoot`) that a claim proves its level
/// against (`claimSubtaskWithProof`); both lead to the same claim rules.
/// Roles: DEFAULT_ADMIN_ROLE grants and revokes roles; REGISTRAR_ROLE sets levels;
/// RELEASER_ROLE releases tasks. Closing a task and submitting data are bound to the task's own
/// releaser and the subtask's own claimant, not to a role.
/// Storage is packed so that a claim writes one fresh slot (the receiver's holding in the task)
/// and updates one already non-zero slot (claimant beside the level).
contract TaskRegistry is ITaskRegistry, AccessControl {
    // ----------------------------------------------------------------- storage

    /// @notice Role allowed to set receivers' levels.
    bytes32 public constant REGISTRAR_ROLE = keccak256("REGISTRAR_ROLE");

    /// @notice Role allowed to release tasks.
    bytes32 public constant RELEASER_ROLE = keccak256("RELEASER_ROLE");

    /// @notice Largest number of subtasks in one task (bounds the loop in releaseTask).
    uint256 public constant MAX_SUBTASKS = 32;

    /// @notice Largest number of accounts in one setLevels call (bounds its loop).
    uint256 public constant MAX_LEVEL_BATCH = 500;

    /// @notice Longest level proof accepted (bounds its loop): 2^32 receivers per root.
    uint256 public constant MAX_PROOF_DEPTH = 32;

    /// @dev The field prime of secp256k1, for the claimant's encryption key.
    uint256 private constant _SECP256K1_P = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEFFFFFC2F;

    struct Task {
        address releaser; // zero <=> the task does not exist
        uint16 subtaskCount;
        bool closed;
        uint32 levelsEpoch; // the levels root its claims by proof use (0: none was published)
    }

    struct Subtask {
        bytes32 subtaskHash;
        address claimant; // packed with `level` in one slot, written non-zero at release
        uint8 level;
        bytes32 dataHash;
    }

    /// @inheritdoc ITaskRegistry
    uint8 public immutable override numLevels;

    /// @dev The levels leaves' domain, keccak256(abi.encode(chainid, this)), computed once for the
    /// chain of deployment (and again on any other chain, as after a fork).
    uint256 private immutable _domainChainId;
    bytes32 private immutable _levelsDomain;

    uint256 private _taskCount;
    /// @dev The epoch the next levels root gets; 1 from deployment on (not 0), so that
    /// publishing the first root costs what every later one does.
    uint32 private _nextLevelsEpoch = 1;
    mapping(uint32 epoch => bytes32 root) private _levelsRoots;
    mapping(address user => uint8 level) private _levels;
    mapping(uint256 taskId => Task) private _tasks;
    mapping(uint256 taskId => mapping(uint256 index => Subtask)) private _subtasks;
    /// @dev index + 1 of the subtask a receiver holds in a task; 0 = none.
    mapping(uint256 taskId => mapping(address receiver => uint256 indexPlusOne)) private _held;

    // ------------------------------------------------------------- constructor

    /// @param numLevels_ number of security levels T (at least 2).
    /// @param admin account given DEFAULT_ADMIN_ROLE.
    /// @param registrar account given REGISTRAR_ROLE.
    /// @param releaser account given RELEASER_ROLE.
    constructor(uint8 numLevels_, address admin, address registrar, address releaser) {
        if (numLevels_ < 2) revert TaskRegistryInvalidLevelCount(numLevels_);
        if (admin == address(0)) revert TaskRegistryZeroAddress(0);
        if (registrar == address(0)) revert TaskRegistryZeroAddress(1);
        if (releaser == address(0)) revert TaskRegistryZeroAddress(2);
        numLevels = numLevels_;
        _domainChainId = block.chainid;
        _levelsDomain = keccak256(abi.encode(block.chainid, address(this)));
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
        _grantRole(REGISTRAR_ROLE, registrar);
        _grantRole(RELEASER_ROLE, releaser);
    }

    // ---------------------------------------------------------------- external

    /// @inheritdoc ITaskRegistry
    function setLevels(address[] calldata users, uint8[] calldata levels) external onlyRole(REGISTRAR_ROLE) {
        uint256 n = users.length;
        if (levels.length != n) revert TaskRegistryLengthMismatch(n, levels.length);
        if (n == 0) revert TaskRegistryEmptyBatch();
        if (n > MAX_LEVEL_BATCH) revert TaskRegistryBatchTooLarge(n, MAX_LEVEL_BATCH);
        uint8 t = numLevels;
        for (uint256 i; i < n; ++i) {
            address user = users[i];
            uint8 level = levels[i];
            if (user == address(0)) revert TaskRegistryZeroAddress(i);
            if (level == 0 || level > t) revert TaskRegistryInvalidLevel(level, t);
            _levels[user] = level;
            emit LevelSet(user, level, msg.sender);
        }
    }

    /// @inheritdoc ITaskRegistry
    function clearLevels(address[] calldata users) external onlyRole(REGISTRAR_ROLE) {
        uint256 n = users.length;
        if (n == 0) revert TaskRegistryEmptyBatch();
        if (n > MAX_LEVEL_BATCH) revert TaskRegistryBatchTooLarge(n, MAX_LEVEL_BATCH);
        for (uint256 i; i < n; ++i) {
            address user = users[i];
            delete _levels[user];
            emit LevelSet(user, 0, msg.sender);
        }
    }

    /// @inheritdoc ITaskRegistry
    function setLevelsRoot(bytes32 root) external onlyRole(REGISTRAR_ROLE) returns (uint32 epoch) {
        if (root == bytes32(0)) revert TaskRegistryZeroHash(0);
        epoch = _nextLevelsEpoch++;
        _levelsRoots[epoch] = root;
        emit LevelsRootSet(epoch, root, msg.sender);
    }

    /// @inheritdoc ITaskRegistry
    function releaseTask(bytes32[] calldata subtaskHashes, uint8[] calldata levels)
        external
        onlyRole(RELEASER_ROLE)
        returns (uint256 taskId)
    {
        uint256 n = subtaskHashes.length;
        if (levels.length != n) revert TaskRegistryLengthMismatch(n, levels.length);
        if (n == 0) revert TaskRegistryEmptyBatch();
        if (n > MAX_SUBTASKS) revert TaskRegistryBatchTooLarge(n, MAX_SUBTASKS);
        uint8 t = numLevels;
        taskId = _taskCount++;
        _tasks[taskId] = Task({releaser: msg.sender, subtaskCount: uint16(n), closed: false, levelsEpoch: _nextLevelsEpoch - 1});
        emit TaskReleased(taskId, msg.sender, n);
        mapping(uint256 => Subtask) storage subtasks = _subtasks[taskId];
        for (uint256 i; i < n; ++i) {
            bytes32 h = subtaskHashes[i];
            uint8 level = levels[i];
            if (h == bytes32(0)) revert TaskRegistryZeroHash(i);
            if (level == 0 || level > t) revert TaskRegistryInvalidLevel(level, t);
            Subtask storage s = subtasks[i];
            s.subtaskHash = h;
            s.level = level;
            emit SubtaskReleased(taskId, level, i, h);
        }
    }

    /// @inheritdoc ITaskRegistry
    function claimSubtask(uint256 taskId, uint256 index, bytes32 encryptionKey) external {
        _checkIndex(_openTask(taskId), taskId, index);
        uint8 level = _levels[msg.sender];
        if (level == 0) revert TaskRegistryNotRegistered(msg.sender);
        _claim(taskId, index, level, encryptionKey);
    }

    /// @inheritdoc ITaskRegistry
    function claimSubtaskWithProof(
        uint256 taskId,
        uint256 index,
        bytes32 encryptionKey,
        uint8 level,
        bytes32 salt,
        bytes32[] calldata proof
    ) external {
        Task storage task = _openTask(taskId);
        _checkIndex(task, taskId, index);
        uint32 epoch = task.levelsEpoch;
        if (epoch == 0) revert TaskRegistryNoLevelsRoot(taskId);
        if (proof.length > MAX_PROOF_DEPTH) revert TaskRegistryBatchTooLarge(proof.length, MAX_PROOF_DEPTH);
        if (!MerkleProof.verifyCalldata(proof, _levelsRoots[epoch], _levelLeaf(msg.sender, level, salt))) {
            revert TaskRegistryInvalidLevelProof(taskId, epoch, msg.sender, level);
        }
        _claim(taskId, index, level, encryptionKey);
    }

    /// @inheritdoc ITaskRegistry
    function submitData(uint256 taskId, uint256 index, bytes32 dataHash) external {
        Task storage task = _openTask(taskId);
        if (index >= task.subtaskCount) revert TaskRegistryIndexOutOfRange(taskId, index, task.subtaskCount);
        Subtask storage s = _subtasks[taskId][index];
        if (s.claimant != msg.sender) revert TaskRegistryNotClaimant(taskId, index, msg.sender);
        if (dataHash == bytes32(0)) revert TaskRegistryZeroHash(0);
        if (s.dataHash != bytes32(0)) revert TaskRegistryDataAlreadySubmitted(taskId, index);

        s.dataHash = dataHash;
        emit DataSubmitted(taskId, index, msg.sender, dataHash);
    }

    /// @inheritdoc ITaskRegistry
    function closeTask(uint256 taskId) external {
        Task storage task = _openTask(taskId);
        if (task.releaser != msg.sender) revert TaskRegistryNotReleaser(taskId, msg.sender);

        task.closed = true;
        emit TaskClosed(taskId, msg.sender);
    }

    /// @inheritdoc ITaskRegistry
    function levelOf(address user) external view returns (uint8) {
        return _levels[user];
    }

    /// @inheritdoc ITaskRegistry
    function getSubtask(uint256 taskId, uint256 index)
        external
        view
        returns (bytes32 subtaskHash, uint8 level, address claimant, bytes32 dataHash)
    {
        Task storage task = _existingTask(taskId);
        if (index >= task.subtaskCount) revert TaskRegistryIndexOutOfRange(taskId, index, task.subtaskCount);
        Subtask storage s = _subtasks[taskId][index];
        return (s.subtaskHash, s.level, s.claimant, s.dataHash);
    }

    /// @inheritdoc ITaskRegistry
    function subtaskCount(uint256 taskId) external view returns (uint256) {
        return _existingTask(taskId).subtaskCount;
    }

    /// @inheritdoc ITaskRegistry
    function getTask(uint256 taskId) external view returns (address releaser, uint256 count, bool closed) {
        Task storage task = _existingTask(taskId);
        return (task.releaser, task.subtaskCount, task.closed);
    }

    /// @inheritdoc ITaskRegistry
    function taskCount() external view returns (uint256) {
        return _taskCount;
    }

    /// @inheritdoc ITaskRegistry
    function heldSubtask(uint256 taskId, address receiver) external view returns (bool holds, uint256 index) {
        _existingTask(taskId);
        uint256 held = _held[taskId][receiver];
        return held == 0 ? (false, 0) : (true, held - 1);
    }

    /// @inheritdoc ITaskRegistry
    function levelsEpoch() external view returns (uint32) {
        return _nextLevelsEpoch - 1;
    }

    /// @inheritdoc ITaskRegistry
    function levelsRoot(uint32 epoch) external view returns (bytes32) {
        return _levelsRoots[epoch];
    }

    /// @inheritdoc ITaskRegistry
    function taskLevelsEpoch(uint256 taskId) external view returns (uint32) {
        return _existingTask(taskId).levelsEpoch;
    }

    /// @inheritdoc ITaskRegistry
    function levelLeaf(address receiver, uint8 level, bytes32 salt) external view returns (bytes32) {
        return _levelLeaf(receiver, level, salt);
    }

    /// @inheritdoc ITaskRegistry
    function verifyLevel(uint32 epoch, address receiver, uint8 level, bytes32 salt, bytes32[] calldata proof)
        external
        view
        returns (bool)
    {
        bytes32 root = _levelsRoots[epoch];
        return root != bytes32(0) && proof.length <= MAX_PROOF_DEPTH
            && MerkleProof.verifyCalldata(proof, root, _levelLeaf(receiver, level, salt));
    }

    // ---------------------------------------------------------------- internal

    /// @dev The rules every claim obeys, whichever way its level was established: the level of the
    /// subtask, no claimant yet, nothing else held in the task, a usable key. Then the effects.
    function _claim(uint256 taskId, uint256 index, uint8 level, bytes32 encryptionKey) private {
        Subtask storage s = _subtasks[taskId][index];
        uint8 required = s.level;
        if (level != required) revert TaskRegistryLevelMismatch(msg.sender, required, level);
        address claimant = s.claimant;
        if (claimant != address(0)) revert TaskRegistryAlreadyClaimed(taskId, index, claimant);
        uint256 held = _held[taskId][msg.sender];
        if (held != 0) revert TaskRegistryAlreadyHoldsSubtask(taskId, msg.sender, held - 1);
        // A field element, not zero. Whether it is on the curve is the releaser's client's check
        // (an exponentiation here would cost every claim some 6,000 gas; a claimant publishing
        // a key that is no point only keeps its own subtask key from itself).
        if (encryptionKey == bytes32(0) || uint256(encryptionKey) >= _SECP256K1_P) {
            revert TaskRegistryInvalidEncryptionKey(encryptionKey);
        }

        s.claimant = msg.sender;
        _held[taskId][msg.sender] = index + 1;
        emit SubtaskClaimed(taskId, index, msg.sender, level, encryptionKey);
    }

    /// @dev Double-hashed (a leaf is never the 64-byte preimage of an inner node), bound to this
    /// chain and registry (a proof for another deployment proves nothing here), and salted: the
    /// proof a claim publishes holds other receivers' leaves, and without a secret salt anyone
    /// knowing such a receiver's address would find its level by trying the few levels.
    function _levelLeaf(address receiver, uint8 level, bytes32 salt) private view returns (bytes32) {
        bytes32 domain =
            block.chainid == _domainChainId ? _levelsDomain : keccak256(abi.encode(block.chainid, address(this)));
        return keccak256(bytes.concat(keccak256(abi.encode(domain, receiver, level, salt))));
    }

    function _checkIndex(Task storage task, uint256 taskId, uint256 index) private view {
        if (index >= task.subtaskCount) revert TaskRegistryIndexOutOfRange(taskId, index, task.subtaskCount);
    }

    function _existingTask(uint256 taskId) private view returns (Task storage task) {
        task = _tasks[taskId];
        if (task.releaser == address(0)) revert TaskRegistryUnknownTask(taskId);
    }

    function _openTask(uint256 taskId) private view returns (Task storage task) {
        task = _existingTask(taskId);
        if (task.closed) revert TaskRegistryTaskClosed(taskId);
    }
}
