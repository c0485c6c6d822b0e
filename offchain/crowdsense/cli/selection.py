"""CLI of task selection: ``crowdsense selection publish`` and ``selection proof`` (the platform).

A task released with ``crowdsense release --for-selection`` is claimed only by the receivers
the platform selected for it (near the task: CTBC or PDC). The platform publishes their Merkle
root (``publish``) and gives each selected receiver its proof, which ``crowdsense claim
--selection FILE`` carries. See :mod:`crowdsense.ldpf.selection`.
"""

from __future__ import annotations

import json
from pathlib import Path

import click

from crowdsense.cli.clientctx import UINT256, Session, client_command, emit
from crowdsense.errors import InputError

__all__ = ["selection", "publish", "proof", "read_selection_proof"]


def read_selection_proof(path: str) -> object:
    """The selection proof in the JSON file ``path`` (written by ``selection publish/proof``)."""
    from crowdsense.jsonfile import read_json_file
    from crowdsense.ldpf.selection import SelectionProof

    return SelectionProof.from_json(read_json_file(path, what="selection proof"), what=f"selection proof {path}")


def read_accounts(addresses: tuple[str, ...], accounts_file: str | None,
                  what: str = "selected account") -> list[str]:
    """ADDRESSES and the lines of --accounts-file (one address per line, # comments)."""
    found = list(addresses)
    if accounts_file is not None:
        from crowdsense.inputfile import DOCUMENT_LIMIT, read_input_bytes

        raw = read_input_bytes(accounts_file, "accounts file", limit=DOCUMENT_LIMIT)
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise InputError(f"accounts file {accounts_file} is not UTF-8 text: expected one address per line") from None
        from eth_utils import is_address

        for number, line in enumerate(text.splitlines(), 1):
            line = line.split("#", 1)[0].strip()
            if not line:
                continue
            if not is_address(line):
                raise InputError(f"accounts file {accounts_file} line {number}: {line!r:.60} is not an address: "
                                 "expected one 0x address per line (mixed case only with a valid EIP-55 checksum)")
            found.append(line)
    if not found:
        raise InputError(f"no {what}: expected ADDRESSES or --accounts-file with one address per line")
    return found


def _write_proofs(proofs: list, out_dir: str | None) -> list[str]:
    """Each proof as <out-dir>/<account>.json; none written without --out-dir (printed instead)."""
    if out_dir is None:
        return []
    Path(out_dir).mkdir(parents=True, exist_ok=True)
    from crowdsense.atomicfile import write_atomic

    paths = []
    for p in proofs:
        path = Path(out_dir) / f"{p.account}.json"
        write_atomic(path, (json.dumps(p.to_json(), indent=1) + "\n").encode())
        paths.append(str(path))
    return paths


@click.group(short_help="Selected receivers of tasks released for selection (platform).")
def selection() -> None:
    """Fix who may claim a task released for selection: the platform publishes the Merkle root of
    the receivers it selected, and gives each one its proof. Nothing on chain names a selected
    receiver until it claims."""


@selection.command(short_help="Publish the receivers selected for a task (selector).")
@click.argument("task_id", type=UINT256)
@click.argument("addresses", nargs=-1)
@click.option("--accounts-file", type=click.Path(dir_okay=False), default=None,
              help="A file of selected addresses, one per line (with or besides ADDRESSES).")
@click.option("--out-dir", type=click.Path(file_okay=False), default=None,
              help="Write <address>.json, each receiver's proof, here (default: print them as JSON).")
@client_command()
def publish(session: Session, task_id: int, addresses: tuple[str, ...], accounts_file: str | None,
            out_dir: str | None) -> None:
    """Fix ADDRESSES as the receivers selected for TASK_ID, and write their proofs.

    The selection (with the secret seed of its salts) is kept in your journal before its root
    is sent, so `crowdsense selection proof` serves the proofs again later; rerunning the command
    with the same accounts finishes an interrupted publication.
    """
    from crowdsense.ldpf.selection import Selection

    client = session.registry()
    accounts = read_accounts(addresses, accounts_file)
    kept = client.selection(task_id)
    if kept is not None and sorted(a.lower() for a in kept.accounts) == sorted(a.lower() for a in accounts):
        chosen = kept  # a rerun: the same selection, the same salts and root
    elif kept is not None and client.task_selection(task_id)[1] == kept.root:
        raise InputError(f"task {task_id} already has a selection of {len(kept)} receiver(s) on chain: "
                         "expected the same accounts (a selection is fixed once per task)")
    else:
        chosen = Selection.build(accounts, chain_id=session.conn.chain_id, registry=client.address, task_id=task_id)
    tx = client.set_selection(chosen)
    proofs = [chosen.proof_of(a) for a in chosen.accounts]
    written = _write_proofs(proofs, out_dir)
    data = {"taskId": task_id, "root": "0x" + chosen.root.hex(), "selected": list(chosen.accounts),
            "tx": None if tx is None else tx.tx_hash, "alreadyPublished": tx is None, "proofFiles": written}
    if out_dir is None and not session.as_json:
        click.echo(json.dumps([p.to_json() for p in proofs], indent=1))
    emit(session, data, lambda: (
        (f"the selection of task {task_id} is already root 0x{chosen.root.hex()}" if tx is None else
         f"fixed {len(chosen)} selected receiver(s) of task {task_id} (root 0x{chosen.root.hex()}) in block "
         f"{tx.block_number}" + (" (resumed)" if tx.resumed else ""))
        + "".join(f"\n  wrote {p}" for p in written)))


@selection.command(short_help="Write selected receivers' proofs again (selector).")
@click.argument("task_id", type=UINT256)
@click.argument("addresses", nargs=-1, required=True)
@click.option("--out-dir", type=click.Path(file_okay=False), default=None,
              help="Write <address>.json here (default: print the proofs as JSON).")
@client_command()
def proof(session: Session, task_id: int, addresses: tuple[str, ...], out_dir: str | None) -> None:
    """The selection proof of each of ADDRESSES for TASK_ID, from the selection in your journal."""
    kept = session.registry(account=False).selection(task_id)
    if kept is None:
        raise InputError(f"no selection of task {task_id} in this journal: expected the journal of the platform "
                         "that ran `crowdsense selection publish` for it")
    proofs = [kept.proof_of(a) for a in addresses]
    written = _write_proofs(proofs, out_dir)
    if out_dir is None:
        docs = [p.to_json() for p in proofs]
        click.echo(json.dumps(docs[0] if len(docs) == 1 else docs, indent=1))
        return
    emit(session, {"taskId": task_id, "proofFiles": written}, "\n".join(f"wrote {p}" for p in written))
