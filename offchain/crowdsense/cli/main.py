"""The ``crowdsense`` command line: one ``click`` group over the library.

Sub-commands live in :mod:`crowdsense.cli` and are imported only when invoked, so
``crowdsense --help`` stays fast. Data goes to stdout (a table, or JSON with ``--json``);
progress bars and logs go to stderr. Every error of this package becomes one line on stderr
and a non-zero exit code (2 for usage errors, 1 for everything else), never a traceback; so does
an unexpected exception (a bug), whose traceback ``CROWDSENSE_DEBUG=1`` shows. The line reads
``error: <what was wrong>: <what is expected>``, usage errors included (no usage block).
"""

from __future__ import annotations

import importlib
import os
import sys
import warnings
from typing import Any

import click

from crowdsense.errors import CrowdsenseError

__all__ = ["cli", "main"]

#: command name -> (module, attribute, short help)
_COMMANDS: dict[str, tuple[str, str, str]] = {
    "classify": ("crowdsense.cli.classify", "classify", "Cluster a social graph into T security levels."),
    "deploy": ("crowdsense.cli.chain", "deploy", "Deploy the contracts and write the deployment file."),
    "grant": ("crowdsense.cli.chain", "grant", "Grant a role to an account (admin)."),
    "status": ("crowdsense.cli.chain", "status", "Show the deployment, your account, or one task."),
    "resume": ("crowdsense.cli.chain", "resume", "Finish transactions left pending by an interrupted run."),
    "account": ("crowdsense.cli.chain", "account", "Create a keystore or show an account's address."),
    "register": ("crowdsense.cli.tasks", "register", "Register receivers' levels on chain (registrar)."),
    "levels": ("crowdsense.cli.levels", "levels", "Register levels privately: a Merkle root per epoch (registrar)."),
    "release": ("crowdsense.cli.tasks", "release", "Decompose, encrypt and release a task (releaser)."),
    "selection": ("crowdsense.cli.selection", "selection",
                  "Selected receivers of tasks released for selection (platform)."),
    "handover": ("crowdsense.cli.tasks", "handover", "Hand subtask keys to their claimants (releaser)."),
    "close": ("crowdsense.cli.tasks", "close", "Close a task (its releaser)."),
    "collect": ("crowdsense.cli.tasks", "collect", "Collect the data delivered for your tasks (releaser)."),
    "list": ("crowdsense.cli.tasks", "list_subtasks", "List open subtasks of your level (receiver)."),
    "claim": ("crowdsense.cli.tasks", "claim", "Claim a subtask of your level (receiver)."),
    "fetch": ("crowdsense.cli.tasks", "fetch", "Fetch and decrypt a subtask you claimed (receiver)."),
    "submit": ("crowdsense.cli.tasks", "submit", "Submit the hash of your sensing data (receiver)."),
    "ctbc": ("crowdsense.cli.ctbc_parties", "ctbc", "CTBC on chain: simulated rounds, or real parties over HTTP."),
    "edge": ("crowdsense.cli.edge", "edge", "The edge layer's operators: epochs, registrations, anonymity groups."),
    "pdc": ("crowdsense.cli.pdc_parties", "pdc", "PDC on chain: simulated rounds, or real parties over HTTP."),
    "demo": ("crowdsense.cli.demo", "demo", "The main job: PMCB + LDPF end to end on a local chain."),
    "service": ("crowdsense.cli.service", "service", "Run a service over HTTP: blob store, PDC and CTBC platforms, edge."),
}


class _LazyGroup(click.Group):
    """A group whose sub-commands are imported on first use."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(_COMMANDS)

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name not in _COMMANDS:
            return None
        module, attr, _ = _COMMANDS[name]
        return getattr(importlib.import_module(module), attr)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = [(name, _COMMANDS[name][2]) for name in self.list_commands(ctx)]
        with formatter.section("Commands"):
            formatter.write_dl(rows)


@click.group(cls=_LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="crowdsense", prog_name="crowdsense")
def cli() -> None:
    """Privacy-preserving mobile crowdsensing on Ethereum (PMCB + LDPF)."""


def _one_line(text: str) -> str:
    """``text`` with every run of whitespace (newlines included) made one space."""
    return " ".join(text.split())


def _usage_line(exc: click.ClickException) -> str:
    """A usage error as one line ``what was wrong: what is expected``.

    click's own messages name the bad value and the expected one (``Invalid value for
    '--levels': 1 is not in the range 2<=x<=255``); those that do not (``Missing argument
    'TASK_ID'``) get the command's help as what is expected, instead of click's usage block.
    """
    message = _one_line(exc.format_message()).rstrip(".")
    if ": " in message:
        return message
    ctx = getattr(exc, "ctx", None)
    return f"{message}: see '{ctx.command_path if ctx else 'crowdsense'} --help'"


def _warning_line(message: Warning | str, category: type[Warning], *args: Any, **kwargs: Any) -> str:
    """A warning as one line ``warning: <message>`` (not Python's two lines naming the source)."""
    return f"warning: {_one_line(str(message))}\n"


def main(argv: list[str] | None = None) -> Any:
    """Entry point: run the CLI, turning package errors into one-line messages."""
    warnings.formatwarning = _warning_line
    try:
        return cli.main(args=argv, prog_name="crowdsense", standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("error: aborted", err=True)
        sys.exit(1)
    except click.exceptions.NoArgsIsHelpError as exc:
        exc.show()  # a group without a sub-command: its help, not an error
        sys.exit(exc.exit_code)
    except click.ClickException as exc:
        click.echo(f"error: {_usage_line(exc)}", err=True)
        sys.exit(exc.exit_code)
    except CrowdsenseError as exc:
        click.echo(f"error: {_one_line(str(exc))}", err=True)
        sys.exit(1)
    except Exception as exc:
        # A bug, not a user error; still one line (first line of the message), and the
        # traceback on request.
        if os.environ.get("CROWDSENSE_DEBUG"):
            raise
        first = (str(exc).strip().splitlines() or [""])[0]
        click.echo(f"error: unexpected {type(exc).__name__}: {first} (set CROWDSENSE_DEBUG=1 for the traceback)",
                   err=True)
        sys.exit(1)


if __name__ == "__main__":
    main()
