"""CLI commands of private level registration: ``crowdsense levels publish`` and ``levels proof``.

The registrar builds the Merkle tree of (receiver, level) leaves from the classifier's levels
file, keeps it in one file, and publishes only its root on chain (a new epoch); each receiver
gets its own proof (``levels proof``), which ``claim`` and ``list`` take with ``--proof`` and the
receiver's journal then keeps. See :mod:`crowdsense.pmcb.levels_tree` for the tree and its file.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from crowdsense.cli.clientctx import Session, client_command, emit, translate_errors
from crowdsense.cli.tasks import announce_enrollment, enrolled_receivers, enrollment_options, require_one_source
from crowdsense.errors import InputError

__all__ = ["levels", "publish", "proof"]


@click.group(short_help="Private level registration: one Merkle root per epoch (registrar).")
def levels() -> None:
    """Register levels privately: only a Merkle root goes on chain, each receiver proves its own
    level when it claims. Nothing on chain names a receiver or its level until it claims."""


@levels.command(short_help="Build the levels tree and publish its root as a new epoch (registrar).")
@enrollment_options
@click.option("--tree", "tree_path", type=click.Path(dir_okay=False), required=True,
              help="Where to keep the tree (private: it holds every level and the salts' seed).")
@client_command()
def publish(session: Session, levels_file: str, tree_path: str, addresses_file: str | None, simulate: bool,
            limit: int | None, write_addresses: str | None) -> None:
    """Publish the levels of LEVELS_FILE (the output of `crowdsense classify`) as the Merkle root
    of a new epoch.

    Nodes are mapped to accounts as for `crowdsense register`. Every leaf is salted with a
    secret of the tree, so --tree is the registrar's private file (it also holds every level).
    The tree is written before the root is sent, so every published root has its proofs; tasks
    released from now on are claimed with proofs against it, tasks released earlier keep their
    own epoch's root. Rerunning with the same levels and --tree reuses that tree: it finishes an
    interrupted publication, or sends nothing when the root is already the current one.
    """
    from crowdsense.pmcb.levels_tree import LevelsTree

    require_one_source(addresses_file, simulate)
    client = session.registry()
    client.require_role("registrar")
    enrolled = enrolled_receivers(session, levels_file, addresses_file, simulate=simulate, limit=limit)
    tree = _same_tree(tree_path, enrolled.levels, chain_id=session.conn.chain_id, registry=client.address)
    announce_enrollment(enrolled, addresses_file, write_addresses)
    if tree is None:  # new levels: a new tree under fresh secret salts
        tree = LevelsTree.build(enrolled.levels, chain_id=session.conn.chain_id, registry=client.address)
        tree.save(tree_path)
    epoch, tx = client.publish_levels_root(tree.root)
    size = Path(tree_path).stat().st_size
    data = {"epoch": epoch, "root": "0x" + tree.root.hex(), "receivers": tree.count, "depth": tree.depth,
            "tree": str(tree_path), "treeBytes": size, "unmapped": enrolled.unmapped,
            "tx": None if tx is None else tx.tx_hash, "alreadyPublished": tx is None}
    emit(session, data, lambda: (
        (f"levels root 0x{tree.root.hex()} is already the root of epoch {epoch}" if tx is None else
         f"published levels root 0x{tree.root.hex()} as epoch {epoch} in block {tx.block_number}"
         + (" (resumed)" if tx.resumed else ""))
        + f"\n  {tree.count} receiver(s), proofs of depth <= {tree.depth}; tree in {tree_path} ({size:,} bytes)"
        + (f"\n  {enrolled.unmapped} node(s) without address" if enrolled.unmapped else "")
    ))


def _same_tree(path: str, levels: dict[str, int], *, chain_id: int, registry: str) -> Any:
    """The tree at ``path`` if it holds exactly ``levels`` for this registry; None if there is no
    file; refused if it holds another tree.

    A rerun after a crash between writing the tree and publishing its root (or after both)
    must publish that same root, not a new one: the salts of a new tree would differ. Another
    tree is never overwritten: receivers of tasks released under its root still need its proofs.
    """
    from crowdsense.pmcb.levels_tree import LevelsTree

    if not Path(path).exists():
        return None
    tree = LevelsTree.open(path)
    if tree.chain_id == chain_id and tree.registry == registry and tree.levels() == levels:
        return tree
    root = "0x" + tree.root.hex()
    tree.close()
    raise InputError(f"{path} holds another levels tree (root {root}): expected a new --tree path for new "
                     "levels (keep the old file: tasks released under its root are claimed with its proofs)")


@levels.command(short_help="Write receivers' level proofs from the tree (registrar).")
@click.argument("addresses", nargs=-1, required=True)
@click.option("--tree", "tree_path", type=click.Path(dir_okay=False), required=True,
              help="The tree written by `crowdsense levels publish`.")
@click.option("--out-dir", type=click.Path(file_okay=False), default=None,
              help="Write <address>.json here for each receiver (default: print the proofs as JSON).")
@translate_errors
def proof(addresses: tuple[str, ...], tree_path: str, out_dir: str | None) -> None:
    """The level proof of each of ADDRESSES, for the receiver to claim with (`crowdsense claim
    --proof FILE`). A proof reveals that receiver's own level and nothing about the others.

    Without --out-dir the proof is printed as JSON (a list for several addresses), so
    `crowdsense levels proof ADDRESS --tree T > proof.json` makes the receiver's file.
    """
    from crowdsense.chain.addresses import parse_address
    from crowdsense.pmcb.levels_tree import LevelsTree, write_proof_json

    accounts = [parse_address(a, "address") for a in addresses]
    tree = LevelsTree.open(tree_path)
    try:
        missing = [a for a in accounts if tree.level_of(a) is None]
        if missing:
            raise InputError(f"{len(missing)} address(es) are not in the tree {tree_path}, e.g. {missing[0]}: "
                             "expected receivers of the levels file it was built from")
        proofs = [tree.proof_of(a) for a in accounts]
    finally:
        tree.close()
    if out_dir is None:
        docs = [p.to_json() for p in proofs]
        click.echo(json.dumps(docs[0] if len(docs) == 1 else docs, indent=1))
        return
    Path(out_dir).mkdir(parents=True, exist_ok=True)
    for p in proofs:
        click.echo(f"wrote {write_proof_json(p, Path(out_dir) / f'{p.account}.json')}")
