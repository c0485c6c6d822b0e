"""``crowdsense edge open-epoch / register / group``: the operators of the edge layer.

The parameter generator's operator opens epochs (a fresh secret transform each) and registers
the accounts that may read them; the anonymizer's operator, another party, groups an epoch's
transformed positions. The services: ``crowdsense service serve --edge-operator ADDRESS`` and
``--anonymizer-operator ADDRESS``. See docs/ctbc.md.
"""

from __future__ import annotations

import click

from crowdsense.cli.clientctx import Session, client_command, emit

__all__ = ["edge"]

_service_option = click.option("--service", "service_url", required=True, metavar="URL",
                               help="The edge service, http://host:port.")


@click.group(short_help="The edge layer's operators: epochs, registrations, anonymity groups.")
def edge() -> None:
    """The edge layer of CTBC: the parameter generator (epochs, registrations) and the anonymizer."""


@edge.command("open-epoch", short_help="Open an epoch: a fresh secret transform (parameter generator).")
@_service_option
@click.option("--origin", required=True, metavar="LAT,LON", help="The epoch's local frame: metres from here.")
@click.option("--epoch", type=click.IntRange(1, 2**63 - 1), default=None, help="Its number (default: the next).")
@client_command(needs_deployment=False, store=False, journal=False)
def open_epoch(session: Session, service_url: str, origin: str, epoch: int | None) -> None:
    """Open an epoch: the service draws its transform (from the OS's randomness) and keeps it for
    the registered parties."""
    from crowdsense.ldpf.pdc.region import parse_latlon
    from crowdsense.services.ctbc_client import EdgeClient

    point = parse_latlon(origin, "--origin")
    with EdgeClient(service_url, session.require_signer(), timeout=session.timeout, retries=session.retries) as client:
        doc = client.open_epoch(point, epoch)
    emit(session, doc, f"opened epoch {doc['epoch']} (origin {point[0]},{point[1]})")


@edge.command(short_help="Register accounts to read the epochs (parameter generator).")
@_service_option
@click.argument("accounts", nargs=-1)
@click.option("--accounts-file", type=click.Path(dir_okay=False, exists=True), default=None,
              help="More accounts, one per line.")
@client_command(needs_deployment=False, store=False, journal=False)
def register(session: Session, service_url: str, accounts: tuple[str, ...], accounts_file: str | None) -> None:
    """Register ACCOUNTS (users and the platform's operator) to read the epochs' transforms."""
    from crowdsense.chain.addresses import parse_address
    from crowdsense.cli.selection import read_accounts
    from crowdsense.services.ctbc_client import EdgeClient

    checked = [parse_address(a, "account") for a in read_accounts(accounts, accounts_file, "account to register")]
    with EdgeClient(service_url, session.require_signer(), timeout=session.timeout, retries=session.retries) as client:
        doc = client.register(checked)
    emit(session, doc, f"registered {doc['registered']} account(s) ({doc['already']} already were)")


@edge.command(short_help="Group an epoch's positions k-anonymously (anonymizer).")
@_service_option
@click.option("--epoch", type=click.IntRange(1, 2**63 - 1), required=True, help="The epoch to group.")
@click.option("--k", type=click.IntRange(2, 10_000), required=True, help="Users per group at least.")
@client_command(needs_deployment=False, store=False, journal=False)
def group(session: Session, service_url: str, epoch: int, k: int) -> None:
    """Group the transformed positions sent for EPOCH (MDAV); each user then fetches its UD."""
    from crowdsense.services.ctbc_client import AnonymizerClient

    with AnonymizerClient(service_url, session.require_signer(), timeout=session.timeout,
                          retries=session.retries) as client:
        doc = client.group(epoch, k)
    emit(session, doc, f"epoch {epoch}: {doc['users']} users in {doc['groups']} groups of at least {k}")
