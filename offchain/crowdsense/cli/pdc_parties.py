"""``crowdsense pdc keygen / open / answer / answers``: PDC between real parties, over HTTP.

The platform runs ``crowdsense service serve --pdc-key FILE --pdc-operator ADDRESS`` (the key
from ``pdc keygen``); its operator opens a task in a remote region (``pdc open``); each
receiver, on its own machine with its own key and journal, answers with its own location
(``pdc answer``: the location is placed on the task's grid locally and never sent); the
operator reads the accepted distances and writes the N nearest accounts for ``crowdsense
selection publish --accounts-file`` (``pdc answers``). See docs/pdc.md.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from crowdsense.cli.clientctx import FiniteRange, Session, client_command, emit, translate_errors
from crowdsense.cli.ldpf import pdc
from crowdsense.cli.runoptions import insecure_test_key_option, key_bits_option

__all__ = ["pdc"]

_service_option = click.option("--service", "service_url", envvar="CROWDSENSE_PDC_SERVICE", required=True,
                               metavar="URL", help="The PDC platform service, http://host:port "
                                                   "($CROWDSENSE_PDC_SERVICE).")
_TASK_ID = click.argument("task_id", metavar="TASK_ID")


def _client(session: Session, url: str) -> Any:
    """The platform service's client, signing as the session's account."""
    from crowdsense.services.pdc_client import PdcClient

    return PdcClient(url, session.require_signer(), timeout=session.timeout, retries=session.retries)


@pdc.command(short_help="Generate the platform's Paillier key file (mode 0600).")
@click.option("--out", "out", type=click.Path(dir_okay=False), required=True, help="Key file to write (new).")
@key_bits_option
@insecure_test_key_option
@translate_errors
def keygen(out: str, key_bits: int, insecure_test_key: bool) -> None:
    """Generate a Paillier key for the PDC platform and write it to --out (mode 0600; an existing
    file is never overwritten). Only the platform holds it: it decrypts what receivers send."""
    from crowdsense.errors import InputError
    from crowdsense.ldpf.pdc.keys import generate_keypair, write_private_key

    if Path(out).exists():  # refused before the (slow) generation; write_private_key checks again
        raise InputError(f"key file {out} already exists: expected a new path (the key it holds may be in use)")
    _, private_key = generate_keypair(key_bits, allow_insecure=insecure_test_key)
    write_private_key(private_key, out)
    click.echo(f"wrote a {private_key.public_key.n.bit_length()}-bit Paillier key to {out} (mode 0600): "
               "keep it secret and backed up", err=True)


@pdc.command("open", short_help="Open a PDC task on the platform service (operator).")
@_TASK_ID
@_service_option
@click.option("--origin", required=True, metavar="LAT,LON", help="South-west corner of the task's grid.")
@click.option("--cell", type=FiniteRange(min=0.01, max=100_000.0), required=True, metavar="METRES",
              help="Side of a grid cell in metres.")
@click.option("--width", type=click.IntRange(2, 10_000), required=True, help="Grid points west to east.")
@click.option("--height", type=click.IntRange(2, 10_000), default=None, help="Grid points south to north "
                                                                              "(default: --width).")
@click.option("--centre", required=True, metavar="LAT,LON", help="The task's centre (sent to the platform "
                                                                  "only, never published).")
@client_command(needs_deployment=False, store=False, journal=False)
def open_task(session: Session, task_id: str, service_url: str, origin: str, cell: float, width: int,
              height: int | None, centre: str) -> None:
    """Open TASK_ID: the platform encrypts the centre's encoding once; receivers fetch it with the
    task's region (public) and answer with `crowdsense pdc answer`."""
    from crowdsense.ldpf.pdc.region import GridRegion, parse_latlon

    region = GridRegion(origin=parse_latlon(origin, "--origin"), step=cell, width=width,
                        height=width if height is None else height)
    region.point(centre, "--centre")  # refused here, before signing anything
    with _client(session, service_url) as client:
        message, region = client.open_task(task_id, region, centre)
    doc = {"taskId": task_id, "region": region.to_json(), "keyBits": message.public_key_n.bit_length(),
           "taskDigest": "0x" + message.digest.hex()}
    emit(session, doc, f"opened PDC task {task_id} on {service_url}: a {region.width} x {region.height} grid "
                       f"of {region.step:g} m cells from {region.origin[0]},{region.origin[1]}")


@pdc.command(short_help="Answer a PDC task from your own location (receiver).")
@_TASK_ID
@_service_option
@click.option("--location", required=True, metavar="LAT,LON",
              help="Your position; placed on the task's grid here, never sent.")
@click.option("--r-bits", type=click.IntRange(16, 128), default=64, show_default=True,
              help="Bits of your blinding value r.")
@click.option("--answer-budget", type=click.IntRange(0, 1000), default=1, show_default=True,
              help="Answers to one platform per day at most (each tells it your distance to a centre it "
                   "chose; two locate you); 0: no limit.")
@client_command(store=False)
def answer(session: Session, task_id: str, service_url: str, location: str, r_bits: int, answer_budget: int) -> None:
    """Answer TASK_ID as your account: commit to a random r on chain, send Enc(dist + r) with its
    proof, check the platform's decryption, open r on chain, learn your distance to the task.
    Every step is journaled first; run the same command again after an interruption. Answers are
    counted per platform in a budget file beside the journal (pdc-budget-ACCOUNT/)."""
    from crowdsense.chain.boards import ChainCommitmentBoard, JournalSecretStore
    from crowdsense.ldpf.pdc.budget import AnswerBudget
    from crowdsense.ldpf.pdc.region import parse_latlon
    from crowdsense.services.pdc_client import answer_task

    parse_latlon(location, "--location")
    signer = session.require_signer()
    # beside the journal, one per account (accounts sharing a folder keep their own counts)
    budget = (AnswerBudget(Path(session.journal_path).parent / f"pdc-budget-{signer.address}", limit=answer_budget)
              if answer_budget else None)
    conn = session.conn
    board = ChainCommitmentBoard(conn, receipt_timeout=session.receipt_timeout).as_account(signer, session.journal)
    with _client(session, service_url) as client:
        result = answer_task(client, task_id, location, board=board,
                             secret_store=JournalSecretStore(session.journal, conn), r_bits=r_bits, budget=budget)
    emit(session, result.to_json(), f"task {task_id}: your distance is {result.distance} grid steps "
                                     f"(grid point {result.point[0]},{result.point[1]})")


@pdc.command(short_help="Accepted distances of a PDC task; the N nearest accounts (operator).")
@_TASK_ID
@_service_option
@click.option("--n", "n_select", type=click.IntRange(min=1), default=None, help="Select the N nearest.")
@click.option("--max-distance", type=click.IntRange(min=0), default=None, help="Only within this many grid steps.")
@click.option("--accounts-out", type=click.Path(dir_okay=False), default=None,
              help="Write the selected accounts, one per line (for `selection publish --accounts-file`).")
@client_command(needs_deployment=False, store=False, journal=False)
def answers(session: Session, task_id: str, service_url: str, n_select: int | None, max_distance: int | None,
            accounts_out: str | None) -> None:
    """Show the accepted distances, rejected receivers (with the reason) and pending receivers of
    TASK_ID; with --n, the N nearest accepted receivers (ties broken at random)."""
    from crowdsense.atomicfile import write_atomic
    from crowdsense.ldpf.pdc.selection import select_nearest

    if accounts_out and n_select is None:
        raise click.UsageError("--accounts-out needs --n: expected how many receivers to select")
    with _client(session, service_url) as client:
        doc = client.answers(task_id)
    if n_select is not None:
        chosen = select_nearest({str(k): int(v) for k, v in doc["accepted"].items()}, n_select,
                                max_distance=max_distance)
        doc["selected"] = [{"receiver": s.receiver, "distance": s.distance} for s in chosen]
        if accounts_out:
            write_atomic(Path(accounts_out), "".join(f"{s.receiver}\n" for s in chosen))
            doc["accountsFile"] = accounts_out

    def human() -> str:
        lines = [f"task {task_id}: {len(doc['accepted'])} accepted, {len(doc['rejected'])} rejected, "
                 f"{len(doc['pending'])} pending"]
        lines += [f"  {who}  distance {d}" for who, d in sorted(doc["accepted"].items(), key=lambda kv: kv[1])]
        lines += [f"  {who}  rejected: {why}" for who, why in doc["rejected"].items()]
        if "selected" in doc:
            lines.append(f"selected {len(doc['selected'])}: " + ", ".join(s["receiver"] for s in doc["selected"]))
        return "\n".join(lines)

    emit(session, doc, human)
