"""``crowdsense ctbc keygen / join / commit / reveal / open / selection``: CTBC between real parties.

The edge's operator opens an epoch and registers the parties (``crowdsense edge``); each user,
on its own machine with its own key, location and journal, sends its transformed position to
the anonymizer (``ctbc join``), commits on chain to its sealed group centre and uploads it
(``ctbc commit``), and reveals when the platform asks (``ctbc reveal``); the platform's
operator opens tasks (``ctbc open``) and reads the verified selection, written for ``crowdsense
selection publish --accounts-file`` (``ctbc selection``). See docs/ctbc.md.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from crowdsense.cli.clientctx import FiniteRange, Session, client_command, emit, translate_errors
from crowdsense.cli.ldpf import ctbc

__all__ = ["ctbc"]

_platform_option = click.option("--service", "platform_url", envvar="CROWDSENSE_CTBC_SERVICE", required=True,
                                metavar="URL", help="The CTBC platform service ($CROWDSENSE_CTBC_SERVICE).")
_edge_option = click.option("--edge", "edge_url", envvar="CROWDSENSE_EDGE_SERVICE", required=True, metavar="URL",
                            help="The edge's parameter service ($CROWDSENSE_EDGE_SERVICE).")
_anonymizer_option = click.option("--anonymizer", "anonymizer_url", envvar="CROWDSENSE_ANONYMIZER_SERVICE",
                                  required=True, metavar="URL",
                                  help="The edge anonymizer service ($CROWDSENSE_ANONYMIZER_SERVICE).")
_epoch_option = click.option("--epoch", type=click.IntRange(1, 2**63 - 1), required=True,
                             help="The epoch the edge opened.")
_TASK_ID = click.argument("task_id", metavar="TASK_ID")


def _clients(session: Session, **urls: str) -> dict[str, Any]:
    from crowdsense.services.ctbc_client import AnonymizerClient, CtbcClient, EdgeClient

    kinds = {"edge": EdgeClient, "anonymizer": AnonymizerClient, "platform": CtbcClient}
    signer = session.require_signer()
    return {name: kinds[name](url, signer, timeout=session.timeout, retries=session.retries)
            for name, url in urls.items()}


def _board_and_store(session: Session) -> tuple[Any, Any]:
    from crowdsense.chain.boards import ChainCommitmentBoard, JournalSecretStore

    conn = session.conn
    board = ChainCommitmentBoard(conn, receipt_timeout=session.receipt_timeout).as_account(
        session.require_signer(), session.journal)
    return board, JournalSecretStore(session.journal, conn)


@ctbc.command(short_help="Generate the CTBC platform's key file (mode 0600).")
@click.option("--out", type=click.Path(dir_okay=False), required=True, help="Key file to write (new).")
@translate_errors
def keygen(out: str) -> None:
    """Generate the platform's encryption key (users seal their group centres to it) and write it
    to --out (mode 0600; an existing file is never overwritten)."""
    from crowdsense.ldpf.ctbc.sealed import write_platform_key

    key = write_platform_key(out)
    click.echo(f"wrote the CTBC platform key 0x{key.encryption_key.hex()} to {out} (mode 0600): keep it secret "
               "and backed up", err=True)


@ctbc.command(short_help="Send your transformed position to the anonymizer (user).")
@_edge_option
@_anonymizer_option
@_epoch_option
@click.option("--location", required=True, metavar="LAT,LON", help="Your position; transformed here, never sent.")
@client_command(needs_deployment=False, store=False, journal=False)
def join(session: Session, edge_url: str, anonymizer_url: str, epoch: int, location: str) -> None:
    """Join EPOCH: fetch the epoch's transform from the edge (your account must be registered
    there), transform your location on this machine and send only the result to the anonymizer."""
    from crowdsense.ldpf.pdc.region import parse_latlon
    from crowdsense.services.ctbc_client import join_epoch

    parse_latlon(location, "--location")
    clients = _clients(session, edge=edge_url, anonymizer=anonymizer_url)
    try:
        join_epoch(clients["edge"], clients["anonymizer"], epoch, location)
    finally:
        for client in clients.values():
            client.close()
    emit(session, {"epoch": epoch, "account": session.require_signer().address, "joined": True},
         f"joined epoch {epoch}: your transformed position is with the anonymizer")


@ctbc.command(short_help="Commit on chain to your group's centre and upload it (user).")
@_anonymizer_option
@_platform_option
@_epoch_option
@client_command(store=False)
def commit(session: Session, anonymizer_url: str, platform_url: str, epoch: int) -> None:
    """Fetch your group's centre (UD) from the anonymizer, seal it to the platform's key, commit
    on chain (the opening journaled first) and upload it to the platform. Run it again after an
    interruption: the journaled opening is reused."""
    from crowdsense.services.ctbc_client import commit_epoch

    board, store = _board_and_store(session)
    clients = _clients(session, anonymizer=anonymizer_url, platform=platform_url)
    try:
        commitment = commit_epoch(clients["anonymizer"], clients["platform"], epoch, board=board, secret_store=store)
    finally:
        for client in clients.values():
            client.close()
    emit(session, {"epoch": epoch, "commitment": "0x" + commitment.hex()},
         f"committed and uploaded for epoch {epoch}: commitment 0x{commitment.hex()}")


@ctbc.command(short_help="Reveal for a task if the platform asks you (user).")
@_TASK_ID
@_platform_option
@client_command(store=False)
def reveal(session: Session, task_id: str, platform_url: str) -> None:
    """Ask the platform whether you are asked to reveal for TASK_ID; if so, open your commitment
    on chain and send the opening. Prints your state: selected, queued (not asked yet), failed."""
    from crowdsense.services.ctbc_client import reveal_task

    board, store = _board_and_store(session)
    with _clients(session, platform=platform_url)["platform"] as platform:
        answer = reveal_task(platform, task_id, board=board, secret_store=store)
    emit(session, answer, f"task {task_id}: {answer['state']}")


@ctbc.command("open", short_help="Open a CTBC task on the platform (operator).")
@_TASK_ID
@_platform_option
@_edge_option
@_epoch_option
@click.option("--centre", required=True, metavar="LAT,LON", help="The task's centre.")
@click.option("--half-width", type=FiniteRange(min=1.0, max=100_000.0), required=True, metavar="METRES",
              help="Half the width (east-west) of the region of interest.")
@click.option("--half-height", type=FiniteRange(min=1.0, max=100_000.0), default=None, metavar="METRES",
              help="Half its height (default: --half-width).")
@click.option("--n", "n_required", type=click.IntRange(1, 10_000), required=True, help="Users the task needs.")
@click.option("--k", type=click.IntRange(2, 10_000), required=True, help="The anonymity level of the epoch's groups.")
@client_command(needs_deployment=False, store=False, journal=False)
def open_task(session: Session, task_id: str, platform_url: str, edge_url: str, epoch: int, centre: str,
              half_width: float, half_height: float | None, n_required: int, k: int) -> None:
    """Open TASK_ID for EPOCH's uploads: the task is transformed here with the epoch's parameters
    (your account must be registered with the edge) and the platform ranks the groups and asks
    the N best candidates to reveal."""
    from crowdsense.services.ctbc_client import local_task

    clients = _clients(session, edge=edge_url, platform=platform_url)
    try:
        params = clients["edge"].epoch(epoch)
        task = local_task(params, centre, n_required=n_required, half_width=half_width,
                          half_height=half_width if half_height is None else half_height)
        doc = clients["platform"].open_task(task_id, epoch=epoch, k=k, task=params.transform.forward_task(task))
    finally:
        for client in clients.values():
            client.close()
    emit(session, doc, f"opened CTBC task {task_id}: {doc['candidates']} candidates (case {doc['case']}), "
                       f"{doc['asked']} asked to reveal")


@ctbc.command(short_help="The verified selection of a CTBC task (operator).")
@_TASK_ID
@_platform_option
@click.option("--expire", is_flag=True, help="First exclude the asked who have not revealed, and ask the next.")
@click.option("--accounts-out", type=click.Path(dir_okay=False), default=None,
              help="Write the selected accounts, one per line (for `selection publish --accounts-file`), "
                   "once the selection is complete.")
@client_command(needs_deployment=False, store=False, journal=False)
def selection(session: Session, task_id: str, platform_url: str, expire: bool, accounts_out: str | None) -> None:
    """Show who is selected (opening verified), excluded (with why), asked and queued for TASK_ID."""
    from crowdsense.atomicfile import write_atomic
    from crowdsense.errors import InputError

    with _clients(session, platform=platform_url)["platform"] as platform:
        if expire:
            platform.expire(task_id)
        doc = platform.selection(task_id)
    if accounts_out:
        if not doc["complete"]:
            raise InputError(f"task {task_id} has {len(doc['selected'])} of {doc['nRequired']} users verified: "
                             "expected a complete selection before writing --accounts-out (wait, or --expire)")
        write_atomic(Path(accounts_out), "".join(f"{a}\n" for a in doc["selected"]))
        doc["accountsFile"] = accounts_out

    def human() -> str:
        lines = [f"task {task_id}: {len(doc['selected'])} of {doc['nRequired']} selected, {len(doc['asked'])} asked, "
                 f"{len(doc['failed'])} excluded, {doc['queued']} queued"]
        lines += [f"  {a}  selected" for a in doc["selected"]]
        lines += [f"  {a}  asked" for a in doc["asked"]]
        lines += [f"  {a}  excluded: {why}" for a, why in doc["failed"].items()]
        return "\n".join(lines)

    emit(session, doc, human)
