"""Gas per transaction of every state-changing function, on a fresh Anvil.

    python benchmarks/gas.py [--out-dir benchmarks/results] [--quick] [--before OLD_GAS_JSON]

Deploys from the packaged artifacts with plain web3 on an Anvil the script starts itself, and
records ``gasUsed`` from each receipt (21,000 base included) into ``gas.json``. Gas is
deterministic, so one run suffices (``--quick`` does the same work). The targets, and the
script exits 1 when one is missed: ``claimSubtask <= 60,000``, ``setLevelsRoot <= 60,000``
(whatever the number of receivers under the root) and ``claimSubtask (proof depth 20) <= 75,000``
(``claimSubtaskWithProof`` with the proof of a receiver among 2^20: its 20 siblings are drawn at
random and folded into the root, which costs the contract exactly what a built tree would).

``--before`` takes the ``gas.json`` an earlier contract version wrote (for example
``git show REV:benchmarks/results/gas.json``) and records, for every commitment function, that
version's gas beside this one's under ``commitments_before_after``.
"""

from __future__ import annotations

import argparse
import json
import platform
import secrets
import sys
from pathlib import Path

from web3 import Web3

import benchkit
from crowdsense.commitments import new_bit_opening, new_blinding_opening
from crowdsense.chain.deployment import load_artifact
from crowdsense.chain.node import LocalNode
from crowdsense.merkle import MerkleTree, fold
from crowdsense.ldpf.ctbc.payload import encode_ud
from crowdsense.ldpf.ctbc.sealed import SEALED_SIZE, PlatformKey, seal_ud

ROOT = Path(__file__).resolve().parent.parent

CLAIM_TARGET = 60_000
ROOT_TARGET = 60_000
PROOF_CLAIM_TARGET = 75_000
PROOF_DEPTH = 20
#: Receivers selected for one task in the selection rows (a PDC round's 25, rounded up).
SELECTED = 32


def deploy(w3: Web3, name: str, *args, sender: str):
    artifact = load_artifact(name)
    factory = w3.eth.contract(abi=artifact["abi"], bytecode=artifact["bytecode"])
    receipt = w3.eth.wait_for_transaction_receipt(factory.constructor(*args).transact({"from": sender}))
    return w3.eth.contract(address=receipt.contractAddress, abi=artifact["abi"]), receipt.gasUsed


def gas(w3: Web3, fn, sender: str) -> int:
    receipt = w3.eth.wait_for_transaction_receipt(fn.transact({"from": sender}))
    if receipt.status != 1:
        raise RuntimeError(f"transaction reverted: {fn}")
    return receipt.gasUsed


def measure() -> dict:
    results: dict[str, dict] = {}
    with LocalNode("anvil", accounts=120) as node:
        w3 = Web3(Web3.HTTPProvider(node.url))
        admin, *others = w3.eth.accounts
        receivers = others[:105]
        registries = {}
        for t in (3, 5):
            registry, deploy_gas = deploy(w3, "TaskRegistry", t, admin, admin, admin, sender=admin)
            registries[t] = registry
            results[f"deploy TaskRegistry (T={t})"] = {"gas": deploy_gas}
        verifier, deploy_gas = deploy(w3, "CommitmentVerifier", 0, 86400, sender=admin)
        results["deploy CommitmentVerifier"] = {"gas": deploy_gas}

        reg = registries[3]
        batch = receivers[:100]
        g = gas(w3, reg.functions.setLevels(batch, [1 + i % 3 for i in range(100)]), admin)
        results["setLevels (batch of 100)"] = {"gas": g, "per_user": g / 100}
        g = gas(w3, reg.functions.setLevels(receivers[100:101], [1]), admin)
        results["setLevels (1 user)"] = {"gas": g, "per_user": g}
        registries[5].functions.setLevels(batch[:5], [1, 2, 3, 4, 5]).transact({"from": admin})

        for t, registry in registries.items():
            hashes = [secrets.token_bytes(32) for _ in range(t)]
            results[f"releaseTask (T={t}, {t} subtasks)"] = {
                "gas": gas(w3, registry.functions.releaseTask(hashes, list(range(1, t + 1))), admin)
            }

        # receivers[0] has level 1, [1] level 2, [2] level 3 on the T=3 registry; task 0 there
        claims = [gas(w3, reg.functions.claimSubtask(0, i, benchkit.CLAIM_KEY), receivers[i]) for i in range(3)]
        results["claimSubtask"] = {"gas": max(claims), "all": claims, "target": CLAIM_TARGET,
                                   "meets_target": max(claims) <= CLAIM_TARGET}
        results["submitData"] = {"gas": gas(w3, reg.functions.submitData(0, 0, secrets.token_bytes(32)), receivers[0])}

        # Levels by Merkle root: a receiver never given a level in the mapping claims by proof.
        prover, salt = receivers[104], secrets.token_bytes(32)
        leaf = bytes(reg.functions.levelLeaf(prover, 2, salt).call())
        proof = [secrets.token_bytes(32) for _ in range(PROOF_DEPTH)]
        roots = [gas(w3, reg.functions.setLevelsRoot(fold(leaf, proof)), admin)]
        roots.append(gas(w3, reg.functions.setLevelsRoot(fold(leaf, proof)), admin))  # a re-publication
        results["setLevelsRoot"] = {"gas": max(roots), "all": roots, "target": ROOT_TARGET,
                                    "meets_target": max(roots) <= ROOT_TARGET}
        reg.functions.releaseTask([secrets.token_bytes(32) for _ in range(3)], [1, 2, 3]).transact({"from": admin})
        proved = gas(w3, reg.functions.claimSubtaskWithProof(1, 1, benchkit.CLAIM_KEY, 2, salt, proof), prover)
        results[f"claimSubtask (proof depth {PROOF_DEPTH})"] = {
            "gas": proved, "function": "claimSubtaskWithProof", "target": PROOF_CLAIM_TARGET,
            "meets_target": proved <= PROOF_CLAIM_TARGET}
        results["closeTask"] = {"gas": gas(w3, reg.functions.closeTask(0), admin)}

        # Tasks released for selection (task 2): the platform fixes a root of SELECTED receivers;
        # receivers[0] (level 1 in the mapping) claims with its selection proof, the prover (level 2
        # by proof) with both proofs.
        results["releaseTaskForSelection (T=3, 3 subtasks)"] = {
            "gas": gas(w3, reg.functions.releaseTaskForSelection([secrets.token_bytes(32) for _ in range(3)],
                                                                 [1, 2, 3]), admin)}
        reg.functions.grantRole(reg.functions.SELECTOR_ROLE().call(), admin).transact({"from": admin})
        salts = {who: secrets.token_bytes(32) for who in (receivers[0], prover)}
        leaves = {who: bytes(reg.functions.selectionLeaf(2, who, salts[who]).call()) for who in salts}
        filler = [secrets.token_bytes(32) for _ in range(SELECTED - 2)]
        tree = MerkleTree([*leaves.values(), *filler])
        results[f"setSelection ({SELECTED} receivers)"] = {"gas": gas(w3, reg.functions.setSelection(2, tree.root),
                                                                      admin)}
        results[f"claimSelectedSubtask (selection of {SELECTED}, level by mapping)"] = {
            "gas": gas(w3, reg.functions.claimSelectedSubtask(2, 0, benchkit.CLAIM_KEY, 0, bytes(32), [],
                                                              salts[receivers[0]], tree.proof(leaves[receivers[0]])),
                       receivers[0])}
        results[f"claimSelectedSubtask (selection of {SELECTED}, level proof depth {PROOF_DEPTH})"] = {
            "gas": gas(w3, reg.functions.claimSelectedSubtask(2, 1, benchkit.CLAIM_KEY, 2, salt, proof,
                                                              salts[prover], tree.proof(leaves[prover])), prover)}

        payload = (12345678).to_bytes(32, "big", signed=True) + (-87654321).to_bytes(32, "big", signed=True)
        bit = new_bit_opening(payload)
        results["commitBit"] = {"gas": gas(w3, verifier.functions.commitBit(bit.commitment, bit.r1), receivers[0])}
        results["revealBit (64-byte payload)"] = {
            "gas": gas(w3, verifier.functions.revealBit(bit.commitment, bit.r2, bit.payload), receivers[0])
        }
        # a copy of another account's pending commitment is a record of the copier's own
        results["commitBit (a copy of another account's hash)"] = {
            "gas": gas(w3, verifier.functions.commitBit(bit.commitment, bit.r1), receivers[1])}
        sealed = new_bit_opening(seal_ud(PlatformKey.generate().encryption_key, encode_ud(7, 1, 12345678, -87654321),
                                         committer=receivers[2]))
        results["commitBit (sealed UD)"] = {
            "gas": gas(w3, verifier.functions.commitBit(sealed.commitment, sealed.r1), receivers[2])}
        results[f"revealBit (sealed UD, {SEALED_SIZE}-byte payload)"] = {
            "gas": gas(w3, verifier.functions.revealBit(sealed.commitment, sealed.r2, sealed.payload), receivers[2])}
        blind = new_blinding_opening(secrets.randbits(64))
        results["commitBlinding"] = {"gas": gas(w3, verifier.functions.commitBlinding(blind.commitment), receivers[1])}
        results["revealBlinding"] = {
            "gas": gas(w3, verifier.functions.revealBlinding(blind.commitment, blind.r, blind.salt), receivers[1])
        }
    return {
        "unit": "gas per transaction (21,000 base included)",
        "node": "anvil",
        "solc": load_artifact("TaskRegistry")["compiler"],
        "optimizer_runs": 200,
        "python": platform.python_version(),
        "results": results,
    }


#: The commitment functions compared across versions (names as both versions' results spell them).
COMMITMENT_ROWS = ("deploy CommitmentVerifier", "commitBit", "revealBit (64-byte payload)", "commitBlinding",
                   "revealBlinding")


def before_after(before: dict, after: dict) -> dict:
    """Gas of each commitment function in an earlier version's results and in this run's."""
    rows = {}
    for name in COMMITMENT_ROWS:
        old, new = before["results"].get(name, {}).get("gas"), after["results"][name]["gas"]
        rows[name] = {"before": old, "after": new, "change": None if old is None else new - old}
    return {"before": "records keyed by the commitment hash alone (any account could take a hash first)",
            "after": "records keyed by (committer, commitment)", "rows": rows}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out-dir", type=Path, default=ROOT / "benchmarks" / "results")
    parser.add_argument("--quick", action="store_true", help="accepted for uniformity; gas needs one run anyway")
    parser.add_argument("--before", type=Path, help="gas.json of an earlier contract version, to compare with")
    args = parser.parse_args(argv)
    report = measure()
    if args.before is not None:
        report["commitments_before_after"] = before_after(json.loads(args.before.read_text()), report)
    args.out_dir.mkdir(parents=True, exist_ok=True)
    benchkit.write_json(args.out_dir / "gas.json", report, indent=2)
    width = max(map(len, report["results"]))
    for name, row in report["results"].items():
        extra = f"  ({row['per_user']:.0f} per user)" if "per_user" in row else ""
        print(f"{name:<{width}}  {row['gas']:>9,}{extra}")
    targeted = {name: row for name, row in report["results"].items() if "target" in row}
    for name, row in targeted.items():
        print(f"{name} target <= {row['target']:,}: {'met' if row['meets_target'] else 'MISSED'}")
    return 0 if all(row["meets_target"] for row in targeted.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
