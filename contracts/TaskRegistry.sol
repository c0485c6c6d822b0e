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
/// A task released for selection is claimed only by the receivers the selector (the sensing
/// platform, after matching them to the task's region) fixed as one Merkle root per task.
/// Roles: DEFAULT_ADMIN_ROLE grants and revokes roles; REGISTRAR_ROLE sets levels;
/// RELEASER_ROLE releases tasks; SELECTOR_ROLE fixes tasks' selections (granted by the admin).
/// Closing a task and submitting data are bound to the task's own releaser and the subtask's
/// own claimant, not to a role.
/// Storage is packed so that a claim writes one fresh slot (the receiver's holding in the task)
/// and updates one already non-zero slot (claimant beside the level).
contract TaskRegistry is ITaskRegistry, AccessControl {
    // ----------------------------------------------------------------- storage

    /// @notice Role allowed to set receivers' levels.
    bytes32 public constant REGISTRAR_ROLE = keccak256("REGISTRAR_ROLE");

    /// @notice Role allowed to release tasks.
    bytes32 public constant RELEASER_ROLE = keccak256("RELEASER_ROLE");

    /// @notice Role allowed to fix the selected receivers of tasks released for selection.
    bytes32 public constant SELECTOR_ROLE = keccak256("SELECTOR_ROLE");

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
        bool forSelection; // only receivers under its selection root may claim
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
    mapping(uint256 taskId => bytes32 root) private _selectionRoots;

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
        return _release(subtaskHashes, levels, false);
    }

    /// @inheritdoc ITaskRegistry
    function releaseTaskForSelection(bytes32[] calldata subtaskHashes, uint8[] calldata levels)
        external
        onlyRole(RELEASER_ROLE)
        returns (uint256 taskId)
    {
        return _release(subtaskHashes, levels, true);
    }

    /// @inheritdoc ITaskRegistry
    function setSelection(uint256 taskId, bytes32 root) external onlyRole(SELECTOR_ROLE) {
        Task storage task = _openTask(taskId);
        if (!task.forSelection) revert TaskRegistryNotForSelection(taskId);
        if (root == bytes32(0)) revert TaskRegistryZeroHash(0);
        bytes32 current = _selectionRoots[taskId];
        if (current != bytes32(0)) revert TaskRegistrySelectionAlreadySet(taskId, current);

        _selectionRoots[taskId] = root;
        emit SelectionSet(taskId, root, msg.sender);
    }

    /// @inheritdoc ITaskRegistry
    function claimSubtask(uint256 taskId, uint256 index, bytes32 encryptionKey) external {
        _checkIndex(_openUnselectedTask(taskId), taskId, index);
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
        Task storage task = _openUnselectedTask(taskId);
        _checkIndex(task, taskId, index);
        _checkLevelProof(task, taskId, level, salt, proof);
        _claim(taskId, index, level, encryptionKey);
    }

    /// @inheritdoc ITaskRegistry
    function claimSelectedSubtask(
        uint256 taskId,
        uint256 index,
        bytes32 encryptionKey,
        uint8 level,
        bytes32 salt,
        bytes32[] calldata levelProof,
        bytes32 selectionSalt,
        bytes32[] calldata selectionProof
    ) external {
        Task storage task = _openTask(taskId);
        if (!task.forSelection) revert TaskRegistryNotForSelection(taskId);
        _checkIndex(task, taskId, index);
        _checkSelection(taskId, selectionSalt, selectionProof);
        _claim(taskId, index, _claimLevel(task, taskId, level, salt, levelProof), encryptionKey);
    }

    /// @dev Reverts unless the caller's leaf with `salt` is under the task's selection root.
    function _checkSelection(uint256 taskId, bytes32 salt, bytes32[] calldata proof) private view {
        bytes32 root = _selectionRoots[taskId];
        if (root == bytes32(0)) revert TaskRegistrySelectionPending(taskId);
        if (proof.length > MAX_PROOF_DEPTH) revert TaskRegistryBatchTooLarge(proof.length, MAX_PROOF_DEPTH);
        if (!MerkleProof.verifyCalldata(proof, root, _selectionLeaf(taskId, msg.sender, salt))) {
            revert TaskRegistryNotSelected(taskId, msg.sender);
        }
    }

    /// @dev The caller's level for a claim: the registered one (`level` 0) or the proven one.
    function _claimLevel(Task storage task, uint256 taskId, uint8 level, bytes32 salt, bytes32[] calldata proof)
        private
        view
        returns (uint8)
    {
        if (level != 0) {
            _checkLevelProof(task, taskId, level, salt, proof);
            return level;
        }
        uint8 registered = _levels[msg.sender];
        if (registered == 0) revert TaskRegistryNotRegistered(msg.sender);
        return registered;
    }

    /// @dev Release a task, for selection or not (the two release functions).
    function _release(bytes32[] calldata subtaskHashes, uint8[] calldata levels, bool forSelection)
        private
        returns (uint256 taskId)
    {
        uint256 n = subtaskHashes.length;
        if (levels.length != n) revert TaskRegistryLengthMismatch(n, levels.length);
        if (n == 0) revert TaskRegistryEmptyBatch();
        if (n > MAX_SUBTASKS) revert TaskRegistryBatchTooLarge(n, MAX_SUBTASKS);
        uint8 t = numLevels;
        taskId = _taskCount++;
        _tasks[taskId] = Task({
            releaser: msg.sender,
            subtaskCount: uint16(n),
            closed: false,
            levelsEpoch: _nextLevelsEpoch - 1,
            forSelection: forSelection
        });
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
    function taskSelection(uint256 taskId) external view returns (bool forSelection, bytes32 root) {
        return (_existingTask(taskId).forSelection, _selectionRoots[taskId]);
    }

    /// @inheritdoc ITaskRegistry
    function selectionLeaf(uint256 taskId, address receiver, bytes32 salt) external view returns (bytes32) {
        return _selectionLeaf(taskId, receiver, salt);
    }

    /// @inheritdoc ITaskRegistry
    function verifySelection(uint256 taskId, address receiver, bytes32 salt, bytes32[] calldata proof)
        external
        view
        returns (bool)
    {
        return _proves(_selectionRoots[taskId], proof, _selectionLeaf(taskId, receiver, salt));
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
        return _proves(_levelsRoots[epoch], proof, _levelLeaf(receiver, level, salt));
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

    /// @dev Whether `proof` (of a bounded length) leads from `leaf` to a published (non-zero) `root`.
    function _proves(bytes32 root, bytes32[] calldata proof, bytes32 leaf) private pure returns (bool) {
        return root != bytes32(0) && proof.length <= MAX_PROOF_DEPTH && MerkleProof.verifyCalldata(proof, root, leaf);
    }

    /// @dev Checks a level proof against the levels root of the task's epoch.
    function _checkLevelProof(Task storage task, uint256 taskId, uint8 level, bytes32 salt, bytes32[] calldata proof)
        private
        view
    {
        uint32 epoch = task.levelsEpoch;
        if (epoch == 0) revert TaskRegistryNoLevelsRoot(taskId);
        if (proof.length > MAX_PROOF_DEPTH) revert TaskRegistryBatchTooLarge(proof.length, MAX_PROOF_DEPTH);
        if (!MerkleProof.verifyCalldata(proof, _levelsRoots[epoch], _levelLeaf(msg.sender, level, salt))) {
            revert TaskRegistryInvalidLevelProof(taskId, epoch, msg.sender, level);
        }
    }

    /// @dev Double-hashed (a leaf is never the 64-byte preimage of an inner node), bound to this
    /// chain and registry (a proof for another deployment proves nothing here), and salted: the
    /// proof a claim publishes holds other receivers' leaves, and without a secret salt anyone
    /// knowing such a receiver's address would find its level by trying the few levels.
    function _levelLeaf(address receiver, uint8 level, bytes32 salt) private view returns (bytes32) {
        return _leaf(_domain(), bytes32(uint256(uint160(receiver))), bytes32(uint256(level)), salt);
    }

    /// @dev A selection leaf: double-hashed, bound to this registry and the task, salted (as
    /// levels leaves are, for the same reasons).
    function _selectionLeaf(uint256 taskId, address receiver, bytes32 salt) private view returns (bytes32) {
        return _leaf(_domain(), bytes32(taskId), bytes32(uint256(uint160(receiver))), salt);
    }

    /// @dev keccak256(bytes.concat(keccak256(abi.encode(a, b, c, d)))) for four 32-byte words, in
    /// scratch memory past the free memory pointer (no allocation: every claim computes one or two).
    function _leaf(bytes32 a, bytes32 b, bytes32 c, bytes32 d) private pure returns (bytes32 leaf) {
        assembly ("memory-safe") {
            let ptr := mload(0x40)
            mstore(ptr, a)
            mstore(add(ptr, 0x20), b)
            mstore(add(ptr, 0x40), c)
            mstore(add(ptr, 0x60), d)
            mstore(0x00, keccak256(ptr, 0x80))
            leaf := keccak256(0x00, 0x20)
        }
    }

    /// @dev keccak256(abi.encode(chainid, this)), cached for the chain of deployment.
    function _domain() private view returns (bytes32) {
        return block.chainid == _domainChainId ? _levelsDomain : keccak256(abi.encode(block.chainid, address(this)));
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

    /// @dev An open task that anyone of the right level may claim (not released for selection).
    function _openUnselectedTask(uint256 taskId) private view returns (Task storage task) {
        task = _openTask(taskId);
        if (task.forSelection) revert TaskRegistrySelectionRequired(taskId);
    }
}
