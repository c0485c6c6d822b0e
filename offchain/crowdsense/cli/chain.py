"""CLI commands around the chain and the account: deploy, grant, status, resume, account."""

from __future__ import annotations

import os
from typing import Any

import click

from crowdsense.cli.clientctx import (
    UINT64,
    UINT256,
    ChainInt,
    Session,
    client_command,
    emit,
    json_option,
    keystore_option,
    password_option,
    read_password,
    translate_errors,
)

__all__ = ["deploy", "grant", "status", "resume", "account"]


@click.command(short_help="Deploy the contracts with plain web3 and write the deployment file.")
@click.option("--levels", "num_levels", envvar="CROWDSENSE_LEVELS", type=click.IntRange(2, 255), default=3,
              show_default=True, help="Number of security levels T ($CROWDSENSE_LEVELS).")
@click.option("--min-age", type=UINT64, default=0, show_default=True,
              help="CommitmentVerifier: youngest age (s) at which a commitment may be opened.")
@click.option("--max-age", type=ChainInt(64, minimum=1), default=86400, show_default=True,
              help="CommitmentVerifier: oldest age (s) at which a commitment may be opened.")
@click.option("--admin", default=None, help="Admin account (default: the deployer).")
@click.option("--registrar", default=None, help="Registrar account (default: the deployer).")
@click.option("--releaser", default=None, help="Releaser account (default: the deployer).")
@click.option("--out", type=click.Path(dir_okay=False), default=None,
              help="Deployment file to write (default <dir>/<chainId>.json, <dir> = $CROWDSENSE_DEPLOYMENTS "
                   "or ./deployments).")
@click.option("--new", is_flag=True,
              help="Deploy another set of contracts although the journal records one of this account.")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation on a non-local chain.")
@client_command(needs_deployment=False)
def deploy(session: Session, num_levels: int, min_age: int, max_age: int, admin: str | None,
           registrar: str | None, releaser: str | None, out: str | None, new: bool, yes: bool) -> None:
    """Deploy TaskRegistry (T levels) and CommitmentVerifier from the ABI and bytecode shipped
    in the package, and write the deployment file the other commands read. No brownie and no
    compiler needed. The deployer gets every role not given to another account.

    The creation transactions are journaled like every other: run again after an interruption,
    the command finishes the same deployment instead of starting another; run again after
    success, it sends nothing and rewrites the file of the deployment it made (--new deploys
    another set)."""
    from crowdsense.chain.accounts import DEV_CHAIN_IDS
    from crowdsense.chain.connection import deploy_contracts

    signer = session.require_signer()
    if session.chain_id not in DEV_CHAIN_IDS and not yes:
        click.confirm(f"Deploy to chain id {session.chain_id} at {session.rpc_url} from {signer.address}?",
                      abort=True, err=True)
    result = deploy_contracts(session.w3, signer, num_levels, min_age=min_age, max_age=max_age, admin=admin,
                              registrar=registrar, releaser=releaser, path=out,
                              receipt_timeout=session.receipt_timeout, journal=session.journal, new=new)
    dep = result.deployment
    note = {"deployed": [],
            "resumed": ["(finished the deployment an interrupted run had started)"],
            "existing": [f"(already deployed by {signer.address} in block {dep.block_number}; nothing sent; "
                         "`crowdsense deploy --new` deploys another set)"]}[result.outcome]
    emit(session, {**dep.to_json(), "path": str(result.path), "transactions": result.tx_hashes,
                   "outcome": result.outcome}, "\n".join([
        f"TaskRegistry:       {dep.address('TaskRegistry')}  (T = {num_levels})",
        f"CommitmentVerifier: {dep.address('CommitmentVerifier')}  (ages {min_age}..{max_age} s)",
        f"Deployment file:    {result.path}",
        *note,
    ]))


@click.command(short_help="Grant a role to an account (admin).")
@click.argument("role", type=click.Choice(["registrar", "releaser", "selector", "admin"]))
@click.argument("account")
@client_command()
def grant(session: Session, role: str, account: str) -> None:
    """Give ACCOUNT the ROLE on TaskRegistry (registrar: sets levels; releaser: releases tasks;
    selector: fixes the receivers selected for tasks released for selection)."""
    tx = session.registry().grant_role(role, account)
    data = {"role": role, "account": account, "tx": tx.tx_hash if tx else None, "alreadyHeld": tx is None}
    emit(session, data, f"{account} already has the {role} role" if tx is None else
         f"granted {role} to {account} in block {tx.block_number}")


@click.command(short_help="Show the deployment, your account, or one task.")
@click.argument("task_id", type=UINT256, required=False)
@client_command()
def status(session: Session, task_id: int | None) -> None:
    """Without TASK_ID: the node, the contracts, your account's level and roles, and journaled
    transactions still pending. With TASK_ID: the task and each subtask's level, claimant and
    data hash."""
    client = session.registry(account=False)
    if task_id is not None:
        task = client.task(task_id)
        subs = client.subtasks(task_id)

        def table() -> str:
            rows = [f"task {task_id}: releaser {task.releaser}, {task.subtask_count} subtask(s), "
                    + ("closed" if task.closed else "open"),
                    f"{'index':>5} {'level':>5}  {'claimant':<42} data"]
            for s in subs:
                rows.append(f"{s.index:>5} {s.level:>5}  {s.claimant or '-':<42} "
                            + ("0x" + s.data_hash.hex() if s.data_hash else "-"))
            return "\n".join(rows)

        emit(session, {**task.to_json(), "subtasks": [s.to_json() for s in subs]}, table)
        return
    conn = session.conn
    signer = session.signer
    data: dict[str, Any] = {
        "rpcUrl": conn.rpc_url, "chainId": conn.chain_id,
        "deployment": str(conn.deployment_path) if conn.deployment_path else None,
        "taskRegistry": client.address, "commitmentVerifier": conn.verifier_address,
        "numLevels": client.num_levels, "taskCount": client.task_count(),
        "account": None, "level": None, "roles": [], "pendingTransactions": None,
    }
    if signer is not None:
        data["account"] = signer.address
        data["level"] = client.level_of(signer.address)
        data["roles"] = [r for r in ("admin", "registrar", "releaser", "selector") if client.has_role(r, signer.address)]
        data["pendingTransactions"] = len(session.journal.open_intents(chain_id=conn.chain_id, sender=signer.address))
        data["journal"] = session.journal_path

    def text() -> str:
        lines = [
            f"node:               {data['rpcUrl']} (chain id {data['chainId']})",
            f"deployment file:    {data['deployment']}",
            f"TaskRegistry:       {data['taskRegistry']}  (T = {data['numLevels']}, {data['taskCount']} task(s))",
            f"CommitmentVerifier: {data['commitmentVerifier']}",
        ]
        if signer is None:
            lines.append("account:            none (give --keystore, $CROWDSENSE_PRIVATE_KEY or --dev-account)")
        else:
            lines += [
                f"account:            {data['account']}  (level {data['level'] or 'unregistered'}; roles: "
                f"{', '.join(data['roles']) or 'none'})",
                f"journal:            {data['journal']} ({data['pendingTransactions']} pending transaction(s))",
            ]
        return "\n".join(lines)

    emit(session, data, text)


@click.command(short_help="Finish transactions left pending by an interrupted run.")
@client_command()
def resume(session: Session) -> None:
    """Look up every journaled transaction of your account that is not known to be final, and
    finish it: a mined one is recorded, one the node lost is re-broadcast as the same signed
    bytes, one whose nonce was taken is sent again as a new attempt. Nothing is sent twice.

    The report of every transaction goes to stdout; if any could not be finished, the command
    ends with one error line and a non-zero exit code, so a script sees the failure."""
    from crowdsense.chain.errors import TransactionError

    client = session.registry()
    assert client.sender is not None
    outcomes = client.sender.resume_pending()

    def describe(o: Any) -> dict[str, Any]:
        return {"intent": o.intent_id, "kind": o.kind, "tx": o.result.tx_hash if o.result else None,
                "resumed": bool(o.result and o.result.resumed), "error": str(o.error) if o.error else None}

    rows = [describe(o) for o in outcomes]
    emit(session, rows, lambda: "nothing pending" if not rows else "\n".join(
        f"{r['kind']:<14} {r['intent']}: " + (f"failed ({r['error']})" if r["error"] else f"done ({r['tx']})")
        for r in rows))
    failed = [r for r in rows if r["error"]]
    if failed:
        first = failed[0]
        raise TransactionError(f"{len(failed)} of {len(rows)} pending transaction(s) could not be finished: "
                               f"{first['kind']} {first['intent']}: {first['error']}")


@click.group(short_help="Create a keystore or show an account's address.")
def account() -> None:
    """Accounts: encrypted keystores (never printed) and their addresses."""


@account.command("new", short_help="Create an encrypted keystore.")
@click.argument("keystore", type=click.Path(dir_okay=False))
@click.option("--from-env", is_flag=True, help="Encrypt the key in $CROWDSENSE_PRIVATE_KEY instead of a new one.")
@password_option
@json_option
@translate_errors
def account_new(keystore: str, from_env: bool, password_file: str | None, as_json: bool) -> None:
    """Write a new encrypted keystore KEYSTORE (mode 0600) and print its address."""
    from crowdsense.chain.accounts import ENV_PRIVATE_KEY, create_keystore
    from crowdsense.errors import InputError

    key = None
    if from_env:
        key = os.environ.get(ENV_PRIVATE_KEY)
        if not key:
            raise InputError(f"--from-env given but ${ENV_PRIVATE_KEY} is not set: "
                             "set it to the private key to encrypt")
    password = read_password(password_file, "New keystore password", confirm=True)
    signer = create_keystore(keystore, password, private_key=key)
    emit(as_json, {"address": signer.address, "keystore": keystore}, signer.address)


@account.command("address", short_help="Print the address of an account.")
@keystore_option
@password_option
@json_option
@translate_errors
def account_address(keystore: str | None, password_file: str | None, as_json: bool) -> None:
    """Print the address of --keystore or of $CROWDSENSE_PRIVATE_KEY (never the key)."""
    from crowdsense.chain.accounts import load_keystore, signer_from_env

    if keystore:
        signer = load_keystore(keystore, read_password(password_file, f"Password for keystore {keystore}"))
    else:
        signer = signer_from_env()
        if signer is None:
            raise click.UsageError("give --keystore FILE or set $CROWDSENSE_PRIVATE_KEY")
    emit(as_json, {"address": signer.address, "keystore": keystore}, signer.address)
