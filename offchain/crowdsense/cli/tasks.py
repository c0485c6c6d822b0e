"""CLI commands of the task flow: register, release, handover, list, claim, fetch, submit, close.

Each is a thin layer over :class:`crowdsense.chain.registry.TaskRegistryClient`; options shared
by all client commands are described in :mod:`crowdsense.cli.clientctx`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click

from crowdsense.cli.clientctx import (
    UINT64,
    UINT256,
    ChainInt,
    FiniteRange,
    Session,
    client_command,
    emit,
    parse_hash,
    progress_bar,
)
from crowdsense.errors import InputError

__all__ = ["Enrolled", "announce_enrollment", "enrolled_receivers", "enrollment_options", "require_one_source", "register", "release", "handover", "list_subtasks", "claim", "fetch", "submit", "close"]


def _short(h: bytes | None) -> str:
    return "-" if h is None else "0x" + h.hex()[:12] + ".."


# ---------------------------------------------------------------------------- registrar


def require_one_source(addresses_file: str | None, simulate: bool) -> None:
    if bool(addresses_file) == simulate:
        raise click.UsageError("give exactly one of --addresses CSV or --simulate")


@dataclass(frozen=True)
class Enrolled:
    """The receivers a levels file and an address mapping name."""

    mapping: dict[str, str]  # node -> address
    levels: dict[str, int]  # address -> level
    unmapped: int  # nodes of the levels file without an address


def enrolled_receivers(session: Session, levels_file: str, addresses_file: str | None, *, simulate: bool,
                       limit: int | None) -> Enrolled:
    """Read LEVELS_FILE and map its nodes to accounts (--addresses CSV or --simulate, exactly one:
    see :func:`require_one_source`), refusing every inconsistency. Nothing is written or printed:
    the caller runs its own checks, then :func:`announce_enrollment`."""
    from crowdsense.chain.registration import (
        levels_by_address,
        read_address_csv,
        read_levels,
        simulated_addresses,
    )

    levels = read_levels(levels_file)
    nodes = list(levels)[:limit] if limit else list(levels)
    if simulate:
        from crowdsense.chain.accounts import require_dev_chain

        require_dev_chain(session.conn.chain_id, "--simulate accounts")
        mapping = simulated_addresses(nodes, seed=session.sim_seed)
        missing = 0
    else:
        known = read_address_csv(addresses_file)  # type: ignore[arg-type]
        unknown = [n for n in known if n not in levels]
        if unknown:
            raise InputError(f"{len(unknown)} node(s) of {addresses_file} have no level in {levels_file}, "
                             f"e.g. {unknown[:3]}")
        mapping = {n: known[n] for n in nodes if n in known}
        missing = len(nodes) - len(mapping)
        if not mapping:
            raise InputError(f"none of the nodes of {levels_file} has an address in {addresses_file}")
    by_address = levels_by_address(levels, mapping)
    t = session.registry(account=False).num_levels
    bad = [(n, levels[n]) for n in mapping if levels[n] > t]
    if bad:
        raise InputError(f"{len(bad)} node(s) have a level above the registry's T = {t}, e.g. {bad[:3]}")
    return Enrolled(mapping, by_address, missing)


def announce_enrollment(enrolled: Enrolled, addresses_file: str | None, write_addresses: str | None) -> None:
    """Once every refusal is behind (a refused run writes no file and prints one line): note the
    nodes without an address and write --write-addresses."""
    from crowdsense.chain.registration import write_address_csv

    if enrolled.unmapped:
        click.echo(f"note: {enrolled.unmapped} node(s) have no address in {addresses_file} and are not registered",
                   err=True)
    if write_addresses:
        write_address_csv(write_addresses, enrolled.mapping)


def enrollment_options(fn: Any) -> Any:
    """LEVELS_FILE and the options that map its nodes to accounts (see :func:`enrolled_receivers`)."""
    for option in reversed((
        click.argument("levels_file", type=click.Path(dir_okay=False)),
        click.option("--addresses", "addresses_file", type=click.Path(dir_okay=False), default=None,
                     help="CSV with header 'node,address': the enrolled receivers' accounts."),
        click.option("--simulate", is_flag=True,
                     help="Use deterministic simulation accounts per node (local development chains only)."),
        click.option("--limit", type=click.IntRange(min=1), default=None,
                     help="Only the first N nodes of the levels file (simulations)."),
        click.option("--write-addresses", type=click.Path(dir_okay=False), default=None,
                     help="Write the node,address mapping used to this CSV."),
    )):
        fn = option(fn)
    return fn


@click.command(short_help="Register receivers' levels on chain (registrar).")
@enrollment_options
@click.option("--fund", "fund_eth", type=FiniteRange(0, 10**9), default=None,
              help="With --simulate: set each simulated account's balance to this many ETH.")
@click.option("--batch-size", type=click.IntRange(min=1, max=500), default=None,
              help="Accounts per transaction (default: sized from gas estimates to half a block).")
@click.option("--no-skip", is_flag=True, help="Also send accounts already registered at their level.")
@client_command()
def register(session: Session, levels_file: str, addresses_file: str | None, simulate: bool, limit: int | None,
             fund_eth: float | None, write_addresses: str | None, batch_size: int | None, no_skip: bool) -> None:
    """Set the levels of receivers from LEVELS_FILE (the output of `crowdsense classify`).

    LEVELS_FILE maps graph node ids to levels ({"levels": {node: level}, ...}). Node ids are
    mapped to accounts with --addresses CSV (nodes without a row are skipped; a mixed-case
    address must have a valid EIP-55 checksum; two nodes of one address must share a level),
    or with --simulate to deterministic accounts on a local chain. Levels are sent with setLevels in
    batches sized to the block gas limit (at most 500 per transaction); accounts already at
    their level are skipped unless --no-skip, so rerunning after an interruption only sends
    what is missing.
    """
    from crowdsense.chain.registration import fund_dev_accounts

    require_one_source(addresses_file, simulate)
    if fund_eth is not None and not simulate:
        raise click.UsageError("--fund only applies to --simulate accounts")
    client = session.registry()
    client.require_role("registrar")  # before any other output: a refusal is one line
    enrolled = enrolled_receivers(session, levels_file, addresses_file, simulate=simulate, limit=limit)
    announce_enrollment(enrolled, addresses_file, write_addresses)
    mapping, by_address, missing = enrolled.mapping, enrolled.levels, enrolled.unmapped
    funded = 0
    if fund_eth is not None:
        funded = fund_dev_accounts(session.conn.w3, mapping.values(), wei=int(fund_eth * 10**18),
                                   chain_id=session.conn.chain_id)
    with progress_bar(len(by_address), "registering") as bar:
        report = client.register_levels(by_address, batch_size=batch_size, skip_unchanged=not no_skip,
                                        progress=bar.update)
    data = {**report.to_json(), "unmapped": missing, "funded": funded}
    emit(session, data, lambda: (
        f"registered {report.registered} account(s) in {len(report.batches)} transaction(s) "
        f"(batch size {report.batch_size}); {report.skipped} already at their level"
        + (f"; {missing} node(s) without address" if missing else "")
        + (f"; funded {funded}" if funded else "")
    ))


# ---------------------------------------------------------------------------- releaser


@click.command(short_help="Decompose, encrypt and release a task (releaser).")
@click.argument("task_file", type=click.Path(dir_okay=False))
@click.option("--release-id", default=None,
              help="Label that makes this release distinct; default: the digest of the task, so "
                   "re-running the command resumes instead of releasing twice.")
@click.option("--for-selection", is_flag=True,
              help="Only the receivers the platform selects for the task may claim it "
                   "(`crowdsense selection publish`).")
@client_command()
def release(session: Session, task_file: str, release_id: str | None, for_selection: bool) -> None:
    """Release the task described in TASK_FILE.

    TASK_FILE is JSON: {"title": "...", "parts": [...]}, parts being strings in order of
    increasing sensitivity or objects {"text", "sensitivity", "level"?}. Parts get levels
    1..T by sensitivity rank (least sensitive -> 1, most -> T). Each part is encrypted under
    its own key (kept in the journal), the ciphertext goes to the --store folder, and only
    keccak256(ciphertext) and the level go on chain. With --for-selection, nobody can claim it
    until the platform has fixed its selected receivers, and then only they can.
    """
    from crowdsense.pmcb.tasks import decompose, load_task_file

    client = session.registry()
    title, parts = load_task_file(task_file)
    plan = decompose(title, parts, num_levels=client.num_levels)
    released = client.release_task(plan, release_id=release_id, for_selection=for_selection)
    emit(session, released, lambda: "\n".join(
        [f"task {released.task_id} released" + (" for selection" if for_selection else "")
         + f" in block {released.tx.block_number}"
         + (" (resumed: already sent earlier)" if released.tx.resumed else "")]
        + [f"  subtask {i}: level {lvl}  {_short(h)}"
           for i, (lvl, h) in enumerate(zip(released.levels, released.subtask_hashes))]
    ))


@click.command(short_help="Hand subtask keys to their claimants (releaser).")
@click.argument("task_ids", nargs=-1, type=UINT256)
@client_command()
def handover(session: Session, task_ids: tuple[int, ...]) -> None:
    """Encrypt each claimed subtask's key to its claimant (ECIES to the encryption key its
    claim carried) and put the envelope in the --store folder.

    Covers TASK_IDS, or every task released from this journal. Safe to repeat. A subtask that
    cannot be handed over does not stop the others: it is reported, and the command exits
    non-zero at the end naming it.
    """
    client = session.registry()
    done = client.hand_over_keys(list(task_ids) or None)
    written = [h for h in done if h.written]
    failed = [h for h in done if h.error]
    emit(session, done, lambda: "\n".join(
        [f"handed over {len(written)} key(s); {len(done) - len(written) - len(failed)} already handed over"]
        + [f"  task {h.task_id} subtask {h.index} -> {h.claimant}" for h in written]
    ))
    if failed:
        skipped = "; ".join(f"task {h.task_id} subtask {h.index}: {h.error}" for h in failed)
        raise InputError(f"{len(failed)} claimed subtask(s) got no key ({skipped}): "
                         "fix what is named and run `crowdsense handover` again (the others are handed over)")


@click.command(short_help="Close a task (its releaser).")
@click.argument("task_id", type=UINT256)
@client_command()
def close(session: Session, task_id: int) -> None:
    """Close TASK_ID: nothing more can be claimed or submitted."""
    tx = session.registry().close_task(task_id)
    emit(session, {"taskId": task_id, "tx": tx.tx_hash, "block": tx.block_number, "resumed": tx.resumed},
         f"task {task_id} closed in block {tx.block_number}" + (" (resumed)" if tx.resumed else ""))


@click.command(short_help="Collect the data delivered for your tasks (releaser).")
@click.argument("task_ids", nargs=-1, type=UINT256, required=True)
@click.option("--out-dir", type=click.Path(file_okay=False), default=".", show_default=True,
              help="Folder for the data: task-<id>-subtask-<index>.bin per subtask.")
@client_command()
def collect(session: Session, task_ids: tuple[int, ...], out_dir: str) -> None:
    """Fetch the data delivered for each subtask of TASK_IDS (`submit --deliver`), check it
    against the hash on chain, open it with your key and write it to --out-dir.

    Subtasks without data yet are listed. One that cannot be opened does not stop the others:
    it is reported, and the command exits non-zero at the end naming it."""
    from crowdsense.chain.delivery import collect_data
    from crowdsense.atomicfile import write_atomic

    done = collect_data(session.registry(), list(task_ids))
    folder = Path(out_dir)
    written = []
    for item in done:
        if item.data is not None:
            folder.mkdir(parents=True, exist_ok=True)
            path = folder / f"task-{item.task_id}-subtask-{item.index}.bin"
            write_atomic(path, item.data)
            written.append((item, path))
    failed = [c for c in done if c.error]
    pending = [c for c in done if c.data_hash is None]
    emit(session, done, lambda: "\n".join(
        [f"collected {len(written)} subtask(s); {len(pending)} without data yet"]
        + [f"  task {c.task_id} subtask {c.index} from {c.claimant}: {len(c.data or b'')} bytes -> {p}"
           for c, p in written]
    ))
    if failed:
        skipped = "; ".join(f"task {c.task_id} subtask {c.index}: {c.error}" for c in failed)
        raise InputError(f"{len(failed)} subtask(s) could not be collected ({skipped}): expected data delivered "
                         "with `crowdsense submit --deliver` through this --store")


# ---------------------------------------------------------------------------- receiver


def _level_proof(session: Session, proof_file: str | None) -> Any:
    """The proof of --proof FILE, checked to be this account's for this registry; or None.
    (A claim journals it once the chain accepts it: later claims under its root find it.)"""
    if proof_file is None:
        return None
    from crowdsense.pmcb.levels_tree import read_proof_json

    proof = read_proof_json(proof_file)
    client = session.registry()
    if proof.account != client.me:
        raise InputError(f"{proof_file} is the level proof of {proof.account}, not of your account {client.me}: "
                         "expected your own proof")
    if (proof.chain_id, proof.registry) != (session.conn.chain_id, client.address):
        raise InputError(f"{proof_file} is a level proof for registry {proof.registry} on chain {proof.chain_id}: "
                         f"expected one for registry {client.address} on chain {session.conn.chain_id}")
    return proof


PROOF_OPTION = click.option(
    "--proof", "proof_file", envvar="CROWDSENSE_LEVEL_PROOF", type=click.Path(dir_okay=False), default=None,
    help="Your level proof (`crowdsense levels proof`) when levels are registered by Merkle root; "
         "a claim keeps it in the journal, so later claims under the same root find it.")


@click.command("list", short_help="List open subtasks of your level (receiver).")
@click.option("--level", type=click.IntRange(1, 255), default=None, help="Level to list (default: your own).")
@click.option("--all", "show_all", is_flag=True, help="Include claimed subtasks and closed tasks.")
@click.option("--from-block", type=UINT64, default=None,
              help="First block to scan (default: the deployment block).")
@click.option("--to-block", type=UINT64, default=None, help="Last block to scan (default: latest).")
@click.option("--page-size", type=ChainInt(64, minimum=1), default=5000, show_default=True,
              help="Blocks per log query (halved automatically if the node refuses).")
@PROOF_OPTION
@client_command()
def list_subtasks(session: Session, level: int | None, show_all: bool, from_block: int | None,
                  to_block: int | None, page_size: int, proof_file: str | None) -> None:
    """List subtasks released at your level (or --level) that you can claim now.

    Found from SubtaskReleased events filtered on the indexed level, then checked against the
    current state: unclaimed, task open, and you hold nothing else in the task (--all lifts
    these filters). With --proof, your level is the proven one and only tasks released under
    the proof's root are listed.
    """
    proof = _level_proof(session, proof_file)
    client = session.registry(account=level is None or proof is not None)
    bar = progress_bar(0, "scanning blocks")

    def progress(done: int, total: int) -> None:
        bar.total = total
        bar.n = done
        bar.refresh()

    try:
        subs = client.open_subtasks(level, from_block=from_block, to_block=to_block, page_size=page_size,
                                    claimable_only=not show_all, progress=progress, proof=proof)
    finally:
        bar.close()

    def table() -> str:
        if not subs:
            return "no subtasks" + ("" if show_all else " to claim")
        rows = [f"{'task':>6} {'index':>5} {'level':>5}  {'hash':<18} status"]
        for s in subs:
            status = "closed" if s.task_closed else f"claimed by {s.claimant}" if s.claimant else "open"
            rows.append(f"{s.task_id:>6} {s.index:>5} {s.level:>5}  {_short(s.subtask_hash):<18} {status}")
        return "\n".join(rows)

    emit(session, subs, table)


@click.command(short_help="Claim a subtask of your level (receiver).")
@click.argument("task_id", type=UINT256)
@click.argument("index", type=UINT256, required=False)
@PROOF_OPTION
@click.option("--selection", "selection_file", envvar="CROWDSENSE_SELECTION_PROOF",
              type=click.Path(dir_okay=False), default=None,
              help="Your selection proof for this task (from the platform) when the task was released "
                   "for selection.")
@client_command()
def claim(session: Session, task_id: int, index: int | None, proof_file: str | None,
          selection_file: str | None) -> None:
    """Claim subtask INDEX of TASK_ID (default: the first unclaimed one of your level).

    Your level is the one registered on chain, or the one your level proof shows (--proof, or
    the proof of the task's levels root kept in your journal). The level, claimed, closed and
    one-per-task rules are checked before sending; a refused claim costs no gas. Repeating the
    command never claims twice: it resumes the journaled transaction. A task released for
    selection is claimed with --selection, the proof the platform gave you for it.
    """
    selection = None
    if selection_file is not None:
        from crowdsense.cli.selection import read_selection_proof

        selection = read_selection_proof(selection_file)
    result = session.registry().claim(task_id, index, proof=_level_proof(session, proof_file), selection=selection)
    if result.tx is None:
        human = f"you already hold subtask {result.index} of task {task_id}"
    else:
        human = (f"claimed subtask {result.index} (level {result.level}) of task {task_id} in block "
                 f"{result.tx.block_number}" + (" (resumed: sent earlier)" if result.tx.resumed else ""))
    emit(session, result, human)


@click.command(short_help="Fetch and decrypt a subtask you claimed (receiver).")
@click.argument("task_id", type=UINT256)
@click.argument("index", type=UINT256)
@click.option("--out", type=click.Path(dir_okay=False), default=None, help="Also write the description here.")
@client_command()
def fetch(session: Session, task_id: int, index: int, out: str | None) -> None:
    """Fetch subtask INDEX of TASK_ID from the store, check it against the on-chain hash and
    decrypt it with the key the releaser handed over to you."""
    sub = session.registry().fetch_subtask(task_id, index)
    if out:
        Path(out).write_text(sub.text + "\n")
    emit(session, sub, f"task {task_id} subtask {index} (level {sub.level}) of \"{sub.title}\":\n{sub.text}")


@click.command(short_help="Submit the hash of your sensing data (receiver).")
@click.argument("task_id", type=UINT256)
@click.argument("index", type=UINT256)
@click.option("--data-file", type=click.Path(dir_okay=False, exists=True), default=None,
              help="File whose keccak256 is submitted (hashed as it is read: any size).")
@click.option("--data", "data_text", default=None, help="Text whose keccak256 (UTF-8) is submitted.")
@click.option("--data-hash", default=None, help="A 0x-prefixed 32-byte hash to submit as is.")
@click.option("--deliver", is_flag=True,
              help="Also deliver the data: encrypted to the releaser and put in --store; the chain records the "
                   "ciphertext's hash (the releaser runs `crowdsense collect`).")
@client_command()
def submit(session: Session, task_id: int, index: int, data_file: str | None, data_text: str | None,
           data_hash: str | None, deliver: bool) -> None:
    """Record the hash of your data for subtask INDEX of TASK_ID (claimant only, once).

    Only keccak256 of the data goes on chain, so --data-file is hashed chunk by chunk and never
    held in memory. With --deliver the data goes to the releaser too, encrypted to the key
    its subtask description names, through --store (a folder or a service's URL); then the
    file is read whole (at most $CROWDSENSE_MAX_INPUT_BYTES, default 128 MiB)."""
    given = [x for x in (data_file, data_text, data_hash) if x is not None]
    if len(given) != 1:
        raise click.UsageError("give exactly one of --data-file, --data or --data-hash")
    if deliver:
        _deliver(session, task_id, index, data_file, data_text, data_hash)
        return
    kwargs: dict[str, Any]
    if data_file is not None:
        from crowdsense.commitments.hashes import keccak256_chunks
        from crowdsense.inputfile import input_chunks

        kwargs = {"data_hash": keccak256_chunks(input_chunks(data_file, "data file"))}
    elif data_text is not None:
        kwargs = {"data": data_text.encode()}
    else:
        kwargs = {"data_hash": parse_hash(data_hash)}  # type: ignore[arg-type]
    tx = session.registry().submit_data(task_id, index, **kwargs)
    if tx is None:
        emit(session, {"taskId": task_id, "index": index, "tx": None, "alreadySubmitted": True},
             f"this data hash is already recorded for subtask {index} of task {task_id}")
    else:
        emit(session, {"taskId": task_id, "index": index, "tx": tx.tx_hash, "block": tx.block_number,
                       "resumed": tx.resumed, "alreadySubmitted": False},
             f"data hash recorded for subtask {index} of task {task_id} in block {tx.block_number}")


def _deliver(session: Session, task_id: int, index: int, data_file: str | None, data_text: str | None,
             data_hash: str | None) -> None:
    """``submit --deliver``: the data itself, encrypted to the releaser (not only its hash)."""
    from crowdsense.chain.delivery import deliver_data
    from crowdsense.inputfile import DOCUMENT_LIMIT, max_input_bytes, read_input_bytes

    if data_hash is not None:
        raise click.UsageError("--deliver needs the data (--data-file or --data), not only its hash")
    data = (bytes(read_input_bytes(data_file, "data file", limit=max_input_bytes(DOCUMENT_LIMIT)))
            if data_file is not None else str(data_text).encode())
    done = deliver_data(session.registry(), task_id, index, data)
    emit(session, done, f"data of subtask {index} of task {task_id} delivered to its releaser "
                        f"({done.size} bytes encrypted, hash 0x{done.data_hash.hex()})"
                        + ("; the chain had recorded it already" if done.tx is None else
                           f", recorded in block {done.tx.block_number}"))
