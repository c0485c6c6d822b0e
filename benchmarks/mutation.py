"""Mutation testing of the protocol-critical modules: does the test suite notice a changed line?

    python benchmarks/mutation.py [--groups pdc,ctbc,...] [--work-dir DIR] [--rerun-survivors]
                                  [--out-dir benchmarks/results] [--timeout-multiplier 5]

`mutmut <https://mutmut.readthedocs.io>`_ copies the package, rewrites each function of the
modules in scope into many *mutants* (an operator, a constant, a comparison, a keyword argument
changed, a call or an ``if`` branch removed), and runs the tests that reach that function
against each mutant in turn. A mutant is **killed** when a test fails, **survives** when
every test still passes, and **times out** when the tests run past their time limit (a
mutant that turns a loop infinite). A survivor is either a gap in the tests (a behaviour no
test asserts) or an *equivalent* mutant, one that changes no behaviour (a log message, a
default that every caller overrides).

The modules are grouped by the tests that exercise them; each group runs in its own scratch
copy of the package under ``--work-dir`` (``src/crowdsense``, ``tests/``, ``pyproject.toml``),
so the mutated sources never touch the checkout, with the group's own focused tests only, one
worker process, and a per-mutant time limit of ``(t + 2 s) x 2 x --timeout-multiplier``
seconds of CPU (``t`` the clean run time of the tests that reach the function). Groups run
in the order of ``GROUPS``, most critical first.

1. **First pass** (default): a fresh copy, every mutant. Its counts are kept in the work dir
   (``first_pass.json``) and reported as ``score_before_new_tests``.
2. **``--rerun-survivors``**: the tests are copied again from the checkout (new tests added
   since the first pass) and only the first pass's survivors that no earlier rerun killed and
   that are not explained as equivalent run again; for each survivor now killed, its new tests
   are run once more against it to name the tests that kill it.

The report is written after every group from the state of the work dir (so ``--groups``
reruns one group and keeps the others' results): per module killed / survived / timeout /
total, ``score`` = killed / (killed + survived), and every survivor of the first pass with
its diff and its verdict: ``killed by <tests>``, ``equivalent: <why>`` (``EQUIVALENT`` below,
checked against the mutant's diff so that a reason never outlives the line it was given for),
or ``unreviewed``. A mutant that no selected test reaches ("no tests") counts as survived.

Writes ``mutation.json``. Not part of ``make test`` (``make mutation``): a full run takes hours on
two cores, the Anvil-backed ``txsend`` group longest; ``--groups`` runs some of them.
"""

from __future__ import annotations

import argparse
import fnmatch
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import benchkit

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = "crowdsense"
DEFAULT_WORK_DIR = Path(tempfile.gettempdir()) / "crowdsense-mutation"

#: mutmut's exit codes of a mutant run, as it reports them (``mutmut.stats``).
KILLED = {1, 3}
SURVIVED = {0}
NO_TESTS = {5, 33}
TIMEOUT = {36, 24, -24, 152, 255}


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


@dataclass(frozen=True)
class Module:
    """A file of the package to mutate (path under ``crowdsense/``), whole or some functions."""

    path: str
    functions: tuple[str, ...] = ()

    @property
    def dotted(self) -> str:
        return f"{PACKAGE}." + self.path.removesuffix(".py").replace("/", ".")

    @property
    def patterns(self) -> list[str]:
        """mutmut's mutant-name globs: ``pkg.mod.*`` or ``pkg.mod.x_<function>*`` per function."""
        if not self.functions:
            return [f"{self.dotted}.*"]
        return [f"{self.dotted}.x_{name}*" for name in self.functions]

    @property
    def scope(self) -> str:
        return "functions " + ", ".join(self.functions) if self.functions else "whole module"


@dataclass(frozen=True)
class Group:
    """Modules mutated in one run, with the focused tests that exercise them."""

    name: str
    modules: tuple[Module, ...]
    tests: tuple[str, ...]
    note: str = ""


GROUPS: tuple[Group, ...] = (
    Group("pdc", (Module("ldpf/pdc/protocol.py"), Module("ldpf/pdc/receiver.py"), Module("ldpf/pdc/platform.py"),
                  Module("ldpf/pdc/encoding.py"), Module("ldpf/pdc/proofs.py"), Module("ldpf/pdc/selection.py")),
          ("tests/ldpf/pdc",)),
    Group("ctbc", (Module("ldpf/ctbc/matching.py"),
                   Module("ldpf/ctbc/protocol.py", ("select_users", "platform_groups", "verify_reveal"))),
          ("tests/ldpf/ctbc",)),
    Group("spectral", (Module("pmcb/similarity.py"), Module("pmcb/spectral.py")), ("tests/pmcb/test_spectral.py",)),
    Group("levels", (Module("pmcb/levels.py"), Module("pmcb/levels_tree.py"), Module("keccak_rows.py"),
                     Module("address_rows.py")),
          ("tests/pmcb/test_levels.py", "tests/pmcb/test_levels_tree.py", "tests/test_keccak_rows.py",
           "tests/test_address_rows.py"),
          note="keccak_rows.py and address_rows.py were split out of levels_tree.py: still mutated with it"),
    Group("journal", (Module("chain/journal.py"),),
          ("tests/chain/test_accounts_journal.py", "tests/chain/test_lazyjournal.py")),
    Group("txsend", (Module("chain/txsend.py"),), ("tests/chain/test_txsend.py",),
          note="the tests start their own Anvil"),
    Group("balance-kmeans", (Module("pmcb/balance.py"), Module("pmcb/kmeans.py")),
          ("tests/pmcb/test_balance.py", "tests/pmcb/test_kmeans.py")),
)

#: Survivors that change no behaviour, with why: mutant name -> (diff, reason). The diff is
#: the one ``mutmut show`` gives (its changed lines, see :func:`short_diff`); a reason whose
#: diff no longer matches is not applied (the source changed under it).
EQUIVALENT: dict[str, tuple[str, str]] = {
    'crowdsense.address_rows.x_checksum_spellings__mutmut_24': (
        '- hash_nibbles = np.empty((n, 40), dtype=np.uint8) / + hash_nibbles = np.empty((n, 40), dtype=None)',
        'the hash nibbles are only compared with 8: as float64 or uint8 the same values give the same comparisons'),
    'crowdsense.address_rows.x_checksum_spellings__mutmut_26': (
        '- hash_nibbles = np.empty((n, 40), dtype=np.uint8) / + hash_nibbles = np.empty((n, 40), )',
        'the hash nibbles are only compared with 8: as float64 or uint8 the same values give the same comparisons'),
    'crowdsense.address_rows.x_checksum_spellings__mutmut_72': (
        '- joined = text.tobytes().decode("ascii") / + joined = text.tobytes().decode("ASCII")',
        "Python's codec names are case-insensitive: 'ASCII' is the ascii codec"),
    'crowdsense.address_rows.x_checksummed__mutmut_4': (
        '- return checksum_spellings(np.frombuffer(address, dtype=np.uint8).reshape(1, 20))[0] / + return checksum_spellings(np.frombuffer(address, dtype=np.uint8).reshape(20))[0]',
        "reshape(20) makes 20 rows by broadcasting, each the whole address: the first spelling is the address's own"),
    'crowdsense.address_rows.x_parse_addresses__mutmut_37': (
        '- text = np.frombuffer("".join(digits).encode("ascii"), dtype=np.uint8).reshape(n, 40) / + text = np.frombuffer("".join(digits).encode("ASCII"), dtype=np.uint8).reshape(n, 40)',
        "Python's codec names are case-insensitive: 'ASCII' is the ascii codec"),
    'crowdsense.address_rows.x_parse_addresses__mutmut_75': (
        '- nibbles = np.where(folded >= ord("a"), folded - (ord("a") - 10), folded - ord("0")).astype(np.uint8) / + nibbles = np.where(folded >= ord("A"), folded - (ord("a") - 10), folded - ord("0")).astype(np.uint8)',
        "the folded digits are '0'-'9' or 'a'-'f', none between 'A' and 'a': '>= A' splits them as '>= a' does"),
    'crowdsense.address_rows.x_parse_addresses__mutmut_96': (
        '- hash_nibbles = np.empty((mixed.size, 40), dtype=np.uint8) / + hash_nibbles = np.empty((mixed.size, 40), dtype=None)',
        'the hash nibbles are only compared with 8: as float64 or uint8 the same values give the same comparisons'),
    'crowdsense.address_rows.x_parse_addresses__mutmut_98': (
        '- hash_nibbles = np.empty((mixed.size, 40), dtype=np.uint8) / + hash_nibbles = np.empty((mixed.size, 40), )',
        'the hash nibbles are only compared with 8: as float64 or uint8 the same values give the same comparisons'),
    'crowdsense.chain.journal.xǁJournalǁ__init____mutmut_1': (
        '-def __init__(self, path: str | Path = DEFAULT_JOURNAL, *, busy_timeout: float = 30.0) -> None: / +def __init__(self, path: str | Path = DEFAULT_JOURNAL, *, busy_timeout: float = 31.0) -> None:',
        "how long a writer waits for another connection's lock: observable only by timing under contention, which the tests do not assert (no timing assertions)"),
    'crowdsense.chain.journal.xǁJournalǁ__init____mutmut_37': (
        '- timeout=busy_timeout,',
        "how long a writer waits for another connection's lock: observable only by timing under contention, which the tests do not assert (no timing assertions)"),
    'crowdsense.chain.journal.xǁJournalǁ__init____mutmut_38': (
        '- isolation_level=None, # autocommit; explicit BEGIN IMMEDIATE where needed',
        "every write runs inside the journal's own BEGIN IMMEDIATE ... COMMIT, where Python's implicit transaction handling adds nothing; reads start no transaction"),
    'crowdsense.chain.journal.xǁJournalǁ__init____mutmut_78': (
        '- raise JournalError(f"cannot create the journal {path}: {exc.strerror or exc}") from None / + raise JournalError(f"cannot create the journal {path}: {exc.strerror and exc}") from None',
        'only the wording of the JournalError changes (the OSError itself in place of its strerror, which it contains); the error type and branch are the same'),
    'crowdsense.chain.journal.xǁJournalǁintents__mutmut_9': (
        '- args += list(status) / + args = list(status)',
        "args is still empty when the status values are added: '=' and '+=' give the same list"),
    'crowdsense.keccak_rows.x_keccak_f1600__mutmut_10': (
        '- c = [np.empty(n, dtype=np.uint64) for _ in range(5)] / + c = [np.empty(n, dtype=np.uint64) for _ in range(6)]',
        'one more scratch array (or shift constant) made and never used'),
    'crowdsense.keccak_rows.x_keccak_f1600__mutmut_17': (
        '- b = [np.empty(n, dtype=np.uint64) for _ in range(25)] / + b = [np.empty(n, dtype=np.uint64) for _ in range(26)]',
        'one more scratch array (or shift constant) made and never used'),
    'crowdsense.keccak_rows.x_keccak_f1600__mutmut_2': (
        '- n = lanes[0].shape[0] / + n = lanes[1].shape[0]',
        'every lane holds one word per state: lane 1 has the length of lane 0'),
    'crowdsense.keccak_rows.x_keccak_f1600__mutmut_31': (
        '- shift = [np.uint64(k) for k in range(65)] / + shift = [np.uint64(k) for k in range(66)]',
        'one more scratch array (or shift constant) made and never used'),
    'crowdsense.keccak_rows.x_keccak_f1600__mutmut_91': (
        '- lanes[x + y] ^= d / + lanes[x - y] ^= d',
        'for y in 0, 5, .., 20, lanes[x - y] is lanes[x + 25 - y] (negative indexes of the 25-lane list): the same five lanes of column x'),
    'crowdsense.keccak_rows.x_keccak_rows__mutmut_3': (
        '- if n < BATCH_MIN: / + if n <= BATCH_MIN:',
        '256 rows are hashed by pycryptodome instead of the numpy permutation: the same keccak256 digests'),
    'crowdsense.keccak_rows.x_keccak_rows__mutmut_47': (
        '- block[:, width] ^= 0x01 / + block[:, width] = 0x01',
        "the byte after the message is still 0 when the padding's 0x01 goes there (the 0x80 comes after it): '=' and '^=' give the same block"),
    'crowdsense.ldpf.ctbc.matching.x_rank_candidates__mutmut_50': (
        '- group_order = inside[np.argsort(-degree[inside], kind="stable")] / + group_order = inside[np.argsort(-degree[inside], kind="STABLE")]',
        "numpy reads only the first letter of the sort kind, case-insensitively: 'STABLE' selects the same stable sort"),
    'crowdsense.ldpf.ctbc.matching.x_rank_candidates__mutmut_69': (
        '- rank = np.full(n_groups, n_groups, dtype=np.int64) / + rank = np.full(n_groups, n_groups, dtype=None)',
        'np.full infers its dtype from the int fill value: int64 on the 64-bit platforms the package runs on, the dtype named'),
    'crowdsense.ldpf.ctbc.matching.x_rank_candidates__mutmut_72': (
        '- rank = np.full(n_groups, n_groups, dtype=np.int64) / + rank = np.full(n_groups, n_groups, )',
        'np.full infers its dtype from the int fill value: int64 on the 64-bit platforms the package runs on, the dtype named'),
    'crowdsense.ldpf.ctbc.protocol.x_platform_groups__mutmut_15': (
        '- labels = np.fromiter((index[p] for p in payloads), dtype=np.int64, count=len(payloads)) / + labels = np.fromiter((index[p] for p in payloads), dtype=np.int64, )',
        "np.fromiter's count only preallocates: without it the same values are read to the generator's end"),
    'crowdsense.ldpf.ctbc.protocol.x_platform_groups__mutmut_22': (
        '- sizes = np.bincount(labels, minlength=len(distinct)) / + sizes = np.bincount(labels, )',
        "every distinct payload labels at least one upload, so the largest label is len(distinct) - 1 and bincount's result has that length without minlength"),
    'crowdsense.ldpf.ctbc.protocol.x_select_users__mutmut_25': (
        '- candidates = rank_candidates(centres[kept], labels_kept.reshape(-1), task, random_state=random_state) / + candidates = rank_candidates(centres[kept], labels_kept.reshape(None), task, random_state=random_state)',
        "labels[users] is 1-D, so np.unique's inverse is 1-D already (numpy 2.x): reshape(None) and reshape(-2) leave it as reshape(-1) does"),
    'crowdsense.ldpf.ctbc.protocol.x_select_users__mutmut_27': (
        '- candidates = rank_candidates(centres[kept], labels_kept.reshape(-1), task, random_state=random_state) / + candidates = rank_candidates(centres[kept], labels_kept.reshape(-2), task, random_state=random_state)',
        "labels[users] is 1-D, so np.unique's inverse is 1-D already (numpy 2.x): reshape(None) and reshape(-2) leave it as reshape(-1) does"),
    'crowdsense.ldpf.pdc.encoding.xǁGridǁ__post_init____mutmut_33': (
        '- + (" (an empty grid)" if value <= 0 else "") / + + (" (an empty grid)" if value <= 1 else "")',
        'the hint is only built for an invalid size, and the only int in (0, 1] is 1, a valid size: the message is the same'),
    'crowdsense.ldpf.pdc.platform.xǁPlatformǁ_check_proof__mutmut_30': (
        '- tables = self._tables.get(query.task_id) / + tables = None',
        'the per-task cache of the proof tables: a miss builds equal tables from the same ciphertexts (the same check, more work)'),
    'crowdsense.ldpf.pdc.platform.xǁPlatformǁ_check_proof__mutmut_31': (
        '- tables = self._tables.get(query.task_id) / + tables = self._tables.get(None)',
        'the per-task cache of the proof tables: a miss builds equal tables from the same ciphertexts (the same check, more work)'),
    'crowdsense.ldpf.pdc.platform.xǁPlatformǁopen_task__mutmut_20': (
        '- self.ledger.add_task(message, self.grid.check_point(centre, name="task centre"), public) / + self.ledger.add_task(message, self.grid.check_point(centre, name=None), public)',
        "the centre was already checked by encrypt_task (as 'point') before this check, which therefore never fails"),
    'crowdsense.ldpf.pdc.platform.xǁPlatformǁopen_task__mutmut_22': (
        '- self.ledger.add_task(message, self.grid.check_point(centre, name="task centre"), public) / + self.ledger.add_task(message, self.grid.check_point(centre, ), public)',
        "the centre was already checked by encrypt_task (as 'point') before this check, which therefore never fails"),
    'crowdsense.ldpf.pdc.proofs.x__challenge__mutmut_13': (
        '- parts = [_DOMAIN, context, axis.encode(), int(n).to_bytes(width // 2, "big"), int(w).to_bytes(width, "big"), / + parts = [_DOMAIN, context, axis.encode(), int(n).to_bytes(width // 2, ), int(w).to_bytes(width, "big"),',
        'prover and verifier hash through this one function: another fixed-width or separated encoding of the same values is just as injective, so the challenge is as sound'),
    'crowdsense.ldpf.pdc.proofs.x__challenge__mutmut_22': (
        '- parts = [_DOMAIN, context, axis.encode(), int(n).to_bytes(width // 2, "big"), int(w).to_bytes(width, "big"), / + parts = [_DOMAIN, context, axis.encode(), int(n).to_bytes(width // 2, "big"), int(w).to_bytes(width, ),',
        'prover and verifier hash through this one function: another fixed-width or separated encoding of the same values is just as injective, so the challenge is as sound'),
    'crowdsense.ldpf.pdc.proofs.x__challenge__mutmut_29': (
        '- commitment, len(a).to_bytes(4, "big")] / + commitment, len(a).to_bytes(4, )]',
        'prover and verifier hash through this one function: another fixed-width or separated encoding of the same values is just as injective, so the challenge is as sound'),
    'crowdsense.ldpf.pdc.proofs.x__challenge__mutmut_3': (
        '- width = 2 * ((int(n).bit_length() + 7) // 8) / + width = 3 * ((int(n).bit_length() + 7) // 8)',
        'prover and verifier hash through this one function: another fixed-width or separated encoding of the same values is just as injective, so the challenge is as sound'),
    'crowdsense.ldpf.pdc.proofs.x__challenge__mutmut_30': (
        '- commitment, len(a).to_bytes(4, "big")] / + commitment, len(a).to_bytes(5, "big")]',
        'prover and verifier hash through this one function: another fixed-width or separated encoding of the same values is just as injective, so the challenge is as sound'),
    'crowdsense.ldpf.pdc.proofs.x__challenge__mutmut_37': (
        '- parts.extend(int(v).to_bytes(width, "big") for v in a) / + parts.extend(int(v).to_bytes(width, ) for v in a)',
        'prover and verifier hash through this one function: another fixed-width or separated encoding of the same values is just as injective, so the challenge is as sound'),
    'crowdsense.ldpf.pdc.proofs.x__challenge__mutmut_46': (
        '- return int.from_bytes(keccak256(b"".join(parts)), "big") % _CHALLENGE_MOD / + return int.from_bytes(keccak256(b"".join(parts)), ) % _CHALLENGE_MOD',
        'prover and verifier hash through this one function: another fixed-width or separated encoding of the same values is just as injective, so the challenge is as sound'),
    'crowdsense.ldpf.pdc.proofs.x__challenge__mutmut_49': (
        '- return int.from_bytes(keccak256(b"".join(parts)), "big") % _CHALLENGE_MOD / + return int.from_bytes(keccak256(b"XXXX".join(parts)), "big") % _CHALLENGE_MOD',
        'prover and verifier hash through this one function: another fixed-width or separated encoding of the same values is just as injective, so the challenge is as sound'),
    'crowdsense.ldpf.pdc.proofs.x__challenge__mutmut_7': (
        '- width = 2 * ((int(n).bit_length() + 7) // 8) / + width = 2 * ((int(n).bit_length() + 8) // 8)',
        'prover and verifier hash through this one function: another fixed-width or separated encoding of the same values is just as injective, so the challenge is as sound'),
    'crowdsense.ldpf.pdc.proofs.x__common_checks__mutmut_17': (
        '- units = mpz(1) # every A_p must be a unit mod n^2: one gcd of their product mod n / + units = mpz(2) # every A_p must be a unit mod n^2: one gcd of their product mod n',
        'n is odd: gcd(2 * prod A_p, n) = gcd(prod A_p, n)'),
    'crowdsense.ldpf.pdc.proofs.x__common_checks__mutmut_23': (
        '- if not 0 < a < n2 or not 0 < zr < n: / + if not 0 < a < n2 and not 0 < zr < n:',
        'a value outside the range that is coprime to n is only a non-canonical spelling of a residue mod n^2 (W + n^2, A_p + n^2 and z_rho + n give the same residues in every equation, which the prover must still satisfy under a challenge over those very values); soundness is unchanged'),
    'crowdsense.ldpf.pdc.proofs.x__common_checks__mutmut_25': (
        '- if not 0 < a < n2 or not 0 < zr < n: / + if not 1 < a < n2 or not 0 < zr < n:',
        'also refuses A_p = 1, which no honest prover sends (probability about 1/n)'),
    'crowdsense.ldpf.pdc.proofs.x__common_checks__mutmut_26': (
        '- if not 0 < a < n2 or not 0 < zr < n: / + if not 0 <= a < n2 or not 0 < zr < n:',
        'A_p = 0 is still refused by the unit check: gcd(0, n) = n'),
    'crowdsense.ldpf.pdc.proofs.x__common_checks__mutmut_27': (
        '- if not 0 < a < n2 or not 0 < zr < n: / + if not 0 < a <= n2 or not 0 < zr < n:',
        'A_p = n^2 is still refused by the unit check: gcd(n^2, n) = n'),
    'crowdsense.ldpf.pdc.proofs.x__common_checks__mutmut_29': (
        '- if not 0 < a < n2 or not 0 < zr < n: / + if not 0 < a < n2 or not 1 < zr < n:',
        'also refuses z_rho = 1, which no honest prover sends (probability about 1/n)'),
    'crowdsense.ldpf.pdc.proofs.x__common_checks__mutmut_30': (
        '- if not 0 < a < n2 or not 0 < zr < n: / + if not 0 < a < n2 or not 0 <= zr < n:',
        'z_rho = 0 makes (1 + z_m n) z_rho^n = 0, never the unit A_p * x_p^e: the branch equation refuses it'),
    'crowdsense.ldpf.pdc.proofs.x__common_checks__mutmut_31': (
        '- if not 0 < a < n2 or not 0 < zr < n: / + if not 0 < a < n2 or not 0 < zr <= n:',
        'z_rho = n makes z_rho^n = 0 mod n^2, never the unit A_p * x_p^e: the branch equation refuses it'),
    'crowdsense.ldpf.pdc.proofs.x__common_checks__mutmut_4': (
        '- if not 0 < proof.w < n2 or gmpy2.gcd(proof.w, n) != 1: / + if not 0 < proof.w < n2 and gmpy2.gcd(proof.w, n) != 1:',
        'a value outside the range that is coprime to n is only a non-canonical spelling of a residue mod n^2 (W + n^2, A_p + n^2 and z_rho + n give the same residues in every equation, which the prover must still satisfy under a challenge over those very values); soundness is unchanged'),
    'crowdsense.ldpf.pdc.proofs.x__common_checks__mutmut_6': (
        '- if not 0 < proof.w < n2 or gmpy2.gcd(proof.w, n) != 1: / + if not 1 < proof.w < n2 or gmpy2.gcd(proof.w, n) != 1:',
        'also refuses W = 1, which no honest prover sends (it needs sigma = 1 and u + distance = 0 mod n)'),
    'crowdsense.ldpf.pdc.proofs.x__common_checks__mutmut_7': (
        '- if not 0 < proof.w < n2 or gmpy2.gcd(proof.w, n) != 1: / + if not 0 <= proof.w < n2 or gmpy2.gcd(proof.w, n) != 1:',
        'W = 0 is still refused by the gcd check: gcd(0, n) = n'),
    'crowdsense.ldpf.pdc.proofs.x__common_checks__mutmut_8': (
        '- if not 0 < proof.w < n2 or gmpy2.gcd(proof.w, n) != 1: / + if not 0 < proof.w <= n2 or gmpy2.gcd(proof.w, n) != 1:',
        'W = n^2 is still refused by the gcd check: gcd(n^2, n) = n'),
    'crowdsense.ldpf.pdc.proofs.x__decrypt_mod_p__mutmut_16': (
        '- return (u - 1) // p * mpz(private_key.hp) % p / + return (u + 1) // p * mpz(private_key.hp) % p',
        'u = 1 mod p, so floor((u + 1) / p) = (u - 1) / p for p > 2'),
    'crowdsense.ldpf.pdc.proofs.x__ec_multi__mutmut_1': (
        '-def _ec_multi(points: Sequence[coincurve.PublicKey], scalars: Sequence[int], c: int = 5) -> coincurve.PublicKey: / +def _ec_multi(points: Sequence[coincurve.PublicKey], scalars: Sequence[int], c: int = 6) -> coincurve.PublicKey:',
        'the window width is a speed parameter: any width gives the same sum'),
    'crowdsense.ldpf.pdc.proofs.x__ec_multi__mutmut_19': (
        '- shift_scalar = (1 << c).to_bytes(32, "big") / + shift_scalar = (1 << c).to_bytes(32, )',
        "int.to_bytes' byte order defaults to 'big' (Python >= 3.11, which the package requires)"),
    'crowdsense.ldpf.pdc.proofs.x__ec_multi__mutmut_33': (
        '- buckets: list[list[coincurve.PublicKey]] = [[] for _ in range(mask + 1)] / + buckets: list[list[coincurve.PublicKey]] = [[] for _ in range(mask + 2)]',
        'one more bucket, never filled (a digit is at most the mask)'),
    'crowdsense.ldpf.pdc.proofs.x__ec_multi__mutmut_5': (
        '- windows = (max(int(k).bit_length() for k in scalars) + c - 1) // c / + windows = (max(int(k).bit_length() for k in scalars) + c + 1) // c',
        'one more top window, whose digits are all 0: no bucket is filled and the accumulator is untouched'),
    'crowdsense.ldpf.pdc.proofs.x__hash_to_curve__mutmut_13': (
        '- x = int.from_bytes(keccak256(tag + i.to_bytes(4, "big")), "big") / + x = int.from_bytes(keccak256(tag + i.to_bytes(4, )), "big")',
        "int.to_bytes' and int.from_bytes' byte order defaults to 'big' (Python >= 3.11, which the package requires)"),
    'crowdsense.ldpf.pdc.proofs.x__hash_to_curve__mutmut_2': (
        '- for i in range(1000): / + for i in range(1001):',
        'the loop ends at the first counter whose x is on the curve (about half of them are); a 1001st try is reached with probability about 2^-1000'),
    'crowdsense.ldpf.pdc.proofs.x__hash_to_curve__mutmut_25': (
        '- return coincurve.PublicKey(b"\\x02" + x.to_bytes(32, "big")) / + return coincurve.PublicKey(b"\\x02" + x.to_bytes(32, ))',
        "int.to_bytes' and int.from_bytes' byte order defaults to 'big' (Python >= 3.11, which the package requires)"),
    'crowdsense.ldpf.pdc.proofs.x__hash_to_curve__mutmut_30': (
        '- raise AssertionError("no curve point found") # pragma: no cover - probability 2^-1000 / + raise AssertionError(None) # pragma: no cover - probability 2^-1000',
        'unreachable: 1000 misses in a row have probability about 2^-1000 (pragma no cover)'),
    'crowdsense.ldpf.pdc.proofs.x__hash_to_curve__mutmut_7': (
        '- x = int.from_bytes(keccak256(tag + i.to_bytes(4, "big")), "big") / + x = int.from_bytes(keccak256(tag + i.to_bytes(4, "big")), )',
        "int.to_bytes' and int.from_bytes' byte order defaults to 'big' (Python >= 3.11, which the package requires)"),
    'crowdsense.ldpf.pdc.proofs.x__multi_pow__mutmut_1': (
        '-def _multi_pow(bases: Sequence[mpz], exps: Sequence[int], modulus: mpz, c: int = 6) -> mpz: / +def _multi_pow(bases: Sequence[mpz], exps: Sequence[int], modulus: mpz, c: int = 7) -> mpz:',
        'the window width is a speed parameter: any width gives the same product'),
    'crowdsense.ldpf.pdc.proofs.x__multi_pow__mutmut_25': (
        '- buckets: list[mpz | None] = [None] * (mask + 1) / + buckets: list[mpz | None] = [None] * (mask + 2)',
        'one more bucket, never filled (a digit is at most the mask)'),
    'crowdsense.ldpf.pdc.proofs.x__multi_pow__mutmut_4': (
        '- windows = (max(int(e).bit_length() for e in exps) + c - 1) // c / + windows = (max(int(e).bit_length() for e in exps) + c + 1) // c',
        'one more top window, whose digits are all 0: the accumulator stays 1 through it'),
    'crowdsense.ldpf.pdc.proofs.x__scalar__mutmut_4': (
        '- return (int(k) % CURVE_ORDER).to_bytes(32, "big") / + return (int(k) % CURVE_ORDER).to_bytes(32, )',
        "int.to_bytes' and int.from_bytes' byte order defaults to 'big' (Python >= 3.11, which the package requires)"),
    'crowdsense.ldpf.pdc.proofs.x__unit__mutmut_4': (
        '- v = mpz(secrets.randbelow(int(n) - 2) + 2) / + v = mpz(secrets.randbelow(int(n) - 2) - 2)',
        'a random unit mod n drawn from a range shifted or widened by at most 4 out of n: the same distribution up to about 4/n (and non-units are refused by the gcd check that follows)'),
    'crowdsense.ldpf.pdc.proofs.x__unit__mutmut_6': (
        '- v = mpz(secrets.randbelow(int(n) - 2) + 2) / + v = mpz(secrets.randbelow(int(n) + 2) + 2)',
        'a random unit mod n drawn from a range shifted or widened by at most 4 out of n: the same distribution up to about 4/n (and non-units are refused by the gcd check that follows)'),
    'crowdsense.ldpf.pdc.proofs.x__unit__mutmut_8': (
        '- v = mpz(secrets.randbelow(int(n) - 2) + 2) / + v = mpz(secrets.randbelow(int(n) - 3) + 2)',
        'a random unit mod n drawn from a range shifted or widened by at most 4 out of n: the same distribution up to about 4/n (and non-units are refused by the gcd check that follows)'),
    'crowdsense.ldpf.pdc.proofs.x__unit__mutmut_9': (
        '- v = mpz(secrets.randbelow(int(n) - 2) + 2) / + v = mpz(secrets.randbelow(int(n) - 2) + 3)',
        'a random unit mod n drawn from a range shifted or widened by at most 4 out of n: the same distribution up to about 4/n (and non-units are refused by the gcd check that follows)'),
    'crowdsense.ldpf.pdc.proofs.x_open_masks__mutmut_12': (
        '- total = _combine([(1, _point(left, "x commitment")), (1, _point(right, "y commitment"))]) / + total = _combine([(1, _point(left, "x commitment")), (1, _point(right, None))])',
        "_point's name only goes into a MessageError, which open_masks turns into False"),
    'crowdsense.ldpf.pdc.proofs.x_open_masks__mutmut_15': (
        '- total = _combine([(1, _point(left, "x commitment")), (1, _point(right, "y commitment"))]) / + total = _combine([(1, _point(left, "x commitment")), (1, _point(right, "XXy commitmentXX"))])',
        "_point's name only goes into a MessageError, which open_masks turns into False"),
    'crowdsense.ldpf.pdc.proofs.x_open_masks__mutmut_16': (
        '- total = _combine([(1, _point(left, "x commitment")), (1, _point(right, "y commitment"))]) / + total = _combine([(1, _point(left, "x commitment")), (1, _point(right, "Y COMMITMENT"))])',
        "_point's name only goes into a MessageError, which open_masks turns into False"),
    'crowdsense.ldpf.pdc.proofs.x_open_masks__mutmut_5': (
        '- total = _combine([(1, _point(left, "x commitment")), (1, _point(right, "y commitment"))]) / + total = _combine([(1, _point(left, None)), (1, _point(right, "y commitment"))])',
        "_point's name only goes into a MessageError, which open_masks turns into False"),
    'crowdsense.ldpf.pdc.proofs.x_open_masks__mutmut_8': (
        '- total = _combine([(1, _point(left, "x commitment")), (1, _point(right, "y commitment"))]) / + total = _combine([(1, _point(left, "XXx commitmentXX")), (1, _point(right, "y commitment"))])',
        "_point's name only goes into a MessageError, which open_masks turns into False"),
    'crowdsense.ldpf.pdc.proofs.x_open_masks__mutmut_9': (
        '- total = _combine([(1, _point(left, "x commitment")), (1, _point(right, "y commitment"))]) / + total = _combine([(1, _point(left, "X COMMITMENT")), (1, _point(right, "y commitment"))])',
        "_point's name only goes into a MessageError, which open_masks turns into False"),
    'crowdsense.ldpf.pdc.proofs.x_precompute_axis__mutmut_106': (
        '- a_real=(1 + s_m * n) * gmpy2.powmod(rho0, n, n2) % n2, d_real=d_real or b"", / + a_real=(1 + s_m * n) * gmpy2.powmod(rho0, n, n2) % n2, d_real=d_real or b"XXXX",',
        'the branch runs only when a random curve sum is the point at infinity (probability about 2^-256)'),
    'crowdsense.ldpf.pdc.proofs.x_precompute_axis__mutmut_114': (
        '- e, z_m = secrets.randbelow(_CHALLENGE_MOD), secrets.randbelow(1 << s_bits) / + e, z_m = secrets.randbelow(_CHALLENGE_MOD), secrets.randbelow(2 << s_bits)',
        'doubles the range of a statistical mask (2^(s_bits+1) instead of 2^s_bits): the response stays below the bound 2^336 except with probability about 2^-80, and hiding only improves'),
    'crowdsense.ldpf.pdc.proofs.x_precompute_axis__mutmut_121': (
        '- if point is None or d_real is None: # pragma: no cover - probability 2^-256 / + if point is None and d_real is None: # pragma: no cover - probability 2^-256',
        'the branch runs only when a random curve sum is the point at infinity (probability about 2^-256)'),
    'crowdsense.ldpf.pdc.proofs.x_precompute_axis__mutmut_124': (
        '- return precompute_axis(n, size, index, mask_bits=mask_bits) / + return precompute_axis(None, size, index, mask_bits=mask_bits)',
        'the branch runs only when a random curve sum is the point at infinity (probability about 2^-256)'),
    'crowdsense.ldpf.pdc.proofs.x_precompute_axis__mutmut_125': (
        '- return precompute_axis(n, size, index, mask_bits=mask_bits) / + return precompute_axis(n, None, index, mask_bits=mask_bits)',
        'the branch runs only when a random curve sum is the point at infinity (probability about 2^-256)'),
    'crowdsense.ldpf.pdc.proofs.x_precompute_axis__mutmut_126': (
        '- return precompute_axis(n, size, index, mask_bits=mask_bits) / + return precompute_axis(n, size, None, mask_bits=mask_bits)',
        'the branch runs only when a random curve sum is the point at infinity (probability about 2^-256)'),
    'crowdsense.ldpf.pdc.proofs.x_precompute_axis__mutmut_127': (
        '- return precompute_axis(n, size, index, mask_bits=mask_bits) / + return precompute_axis(n, size, index, mask_bits=None)',
        'the branch runs only when a random curve sum is the point at infinity (probability about 2^-256)'),
    'crowdsense.ldpf.pdc.proofs.x_precompute_axis__mutmut_128': (
        '- return precompute_axis(n, size, index, mask_bits=mask_bits) / + return precompute_axis(size, index, mask_bits=mask_bits)',
        'the branch runs only when a random curve sum is the point at infinity (probability about 2^-256)'),
    'crowdsense.ldpf.pdc.proofs.x_precompute_axis__mutmut_129': (
        '- return precompute_axis(n, size, index, mask_bits=mask_bits) / + return precompute_axis(n, index, mask_bits=mask_bits)',
        'the branch runs only when a random curve sum is the point at infinity (probability about 2^-256)'),
    'crowdsense.ldpf.pdc.proofs.x_precompute_axis__mutmut_130': (
        '- return precompute_axis(n, size, index, mask_bits=mask_bits) / + return precompute_axis(n, size, mask_bits=mask_bits)',
        'the branch runs only when a random curve sum is the point at infinity (probability about 2^-256)'),
    'crowdsense.ldpf.pdc.proofs.x_precompute_axis__mutmut_131': (
        '- return precompute_axis(n, size, index, mask_bits=mask_bits) / + return precompute_axis(n, size, index, )',
        'the branch runs only when a random curve sum is the point at infinity (probability about 2^-256)'),
    'crowdsense.ldpf.pdc.proofs.x_precompute_axis__mutmut_23': (
        '- t = secrets.randbelow(CURVE_ORDER - 1) + 1 / + t = secrets.randbelow(CURVE_ORDER - 1) - 1',
        'a Pedersen blinding drawn from a range one or two values wider, narrower or shifted out of 2^256 (the scalar is reduced mod the curve order): the same distribution up to about 2^-255'),
    'crowdsense.ldpf.pdc.proofs.x_precompute_axis__mutmut_25': (
        '- t = secrets.randbelow(CURVE_ORDER - 1) + 1 / + t = secrets.randbelow(CURVE_ORDER + 1) + 1',
        'a Pedersen blinding drawn from a range one or two values wider, narrower or shifted out of 2^256 (the scalar is reduced mod the curve order): the same distribution up to about 2^-255'),
    'crowdsense.ldpf.pdc.proofs.x_precompute_axis__mutmut_26': (
        '- t = secrets.randbelow(CURVE_ORDER - 1) + 1 / + t = secrets.randbelow(CURVE_ORDER - 2) + 1',
        'a Pedersen blinding drawn from a range one or two values wider, narrower or shifted out of 2^256 (the scalar is reduced mod the curve order): the same distribution up to about 2^-255'),
    'crowdsense.ldpf.pdc.proofs.x_precompute_axis__mutmut_27': (
        '- t = secrets.randbelow(CURVE_ORDER - 1) + 1 / + t = secrets.randbelow(CURVE_ORDER - 1) + 2',
        'a Pedersen blinding drawn from a range one or two values wider, narrower or shifted out of 2^256 (the scalar is reduced mod the curve order): the same distribution up to about 2^-255'),
    'crowdsense.ldpf.pdc.proofs.x_precompute_axis__mutmut_34': (
        '- s_m, s_t = secrets.randbelow(1 << s_bits), secrets.randbelow(CURVE_ORDER - 1) + 1 / + s_m, s_t = secrets.randbelow(2 << s_bits), secrets.randbelow(CURVE_ORDER - 1) + 1',
        'doubles the range of a statistical mask (2^(s_bits+1) instead of 2^s_bits): the response stays below the bound 2^336 except with probability about 2^-80, and hiding only improves'),
    'crowdsense.ldpf.pdc.proofs.x_precompute_axis__mutmut_35': (
        '- s_m, s_t = secrets.randbelow(1 << s_bits), secrets.randbelow(CURVE_ORDER - 1) + 1 / + s_m, s_t = secrets.randbelow(1 << s_bits), secrets.randbelow(CURVE_ORDER - 1) - 1',
        'a Pedersen blinding drawn from a range one or two values wider, narrower or shifted out of 2^256 (the scalar is reduced mod the curve order): the same distribution up to about 2^-255'),
    'crowdsense.ldpf.pdc.proofs.x_precompute_axis__mutmut_37': (
        '- s_m, s_t = secrets.randbelow(1 << s_bits), secrets.randbelow(CURVE_ORDER - 1) + 1 / + s_m, s_t = secrets.randbelow(1 << s_bits), secrets.randbelow(CURVE_ORDER + 1) + 1',
        'a Pedersen blinding drawn from a range one or two values wider, narrower or shifted out of 2^256 (the scalar is reduced mod the curve order): the same distribution up to about 2^-255'),
    'crowdsense.ldpf.pdc.proofs.x_precompute_axis__mutmut_38': (
        '- s_m, s_t = secrets.randbelow(1 << s_bits), secrets.randbelow(CURVE_ORDER - 1) + 1 / + s_m, s_t = secrets.randbelow(1 << s_bits), secrets.randbelow(CURVE_ORDER - 2) + 1',
        'a Pedersen blinding drawn from a range one or two values wider, narrower or shifted out of 2^256 (the scalar is reduced mod the curve order): the same distribution up to about 2^-255'),
    'crowdsense.ldpf.pdc.proofs.x_precompute_axis__mutmut_39': (
        '- s_m, s_t = secrets.randbelow(1 << s_bits), secrets.randbelow(CURVE_ORDER - 1) + 1 / + s_m, s_t = secrets.randbelow(1 << s_bits), secrets.randbelow(CURVE_ORDER - 1) + 2',
        'a Pedersen blinding drawn from a range one or two values wider, narrower or shifted out of 2^256 (the scalar is reduced mod the curve order): the same distribution up to about 2^-255'),
    'crowdsense.ldpf.pdc.proofs.x_proof_context__mutmut_10': (
        '- return task_digest + len(rid).to_bytes(2, "big") + rid + commitment / + return task_digest + len(rid).to_bytes(3, "big") + rid + commitment',
        'prover and verifier both call proof_context: a 3-byte length prefix is as unambiguous as a 2-byte one'),
    'crowdsense.ldpf.pdc.proofs.x_proof_context__mutmut_2': (
        '- rid = receiver.lower().encode() / + rid = receiver.upper().encode()',
        'prover and verifier both call proof_context: any fixed case folding binds the same account'),
    'crowdsense.ldpf.pdc.proofs.x_proof_context__mutmut_9': (
        '- return task_digest + len(rid).to_bytes(2, "big") + rid + commitment / + return task_digest + len(rid).to_bytes(2, ) + rid + commitment',
        "int.to_bytes' byte order defaults to 'big' (Python >= 3.11, which the package requires)"),
    'crowdsense.ldpf.pdc.proofs.x_verify_axis__mutmut_18': (
        '- u_point = _point(proof.commitment, "commitment") / + u_point = _point(proof.commitment, None)',
        "only the name in a MessageError's message changes, for a point the Fiat-Shamir challenge already covered"),
    'crowdsense.ldpf.pdc.proofs.x_verify_axis__mutmut_21': (
        '- u_point = _point(proof.commitment, "commitment") / + u_point = _point(proof.commitment, "XXcommitmentXX")',
        "only the name in a MessageError's message changes, for a point the Fiat-Shamir challenge already covered"),
    'crowdsense.ldpf.pdc.proofs.x_verify_axis__mutmut_22': (
        '- u_point = _point(proof.commitment, "commitment") / + u_point = _point(proof.commitment, "COMMITMENT")',
        "only the name in a MessageError's message changes, for a point the Fiat-Shamir challenge already covered"),
    'crowdsense.ldpf.pdc.proofs.x_verify_axis__mutmut_74': (
        '- right = _combine([(1, _point(d, f"d[{p}]")), (e, u_point)]) / + right = _combine([(1, _point(d, None)), (e, u_point)])',
        "only the name in a MessageError's message changes, for a point the Fiat-Shamir challenge already covered"),
    'crowdsense.ldpf.pdc.proofs.x_verify_query_batched__mutmut_104': (
        '- commitment_terms.append((sum(l * e for l, e in zip(lam, ax.e)), _point(ax.commitment, "commitment"))) / + commitment_terms.append((sum(l * e for l, e in zip(lam, ax.e)), _point(ax.commitment, None)))',
        "only the point's name in the MessageError's message changes; the error type and branch are the same"),
    'crowdsense.ldpf.pdc.proofs.x_verify_query_batched__mutmut_107': (
        '- commitment_terms.append((sum(l * e for l, e in zip(lam, ax.e)), _point(ax.commitment, "commitment"))) / + commitment_terms.append((sum(l * e for l, e in zip(lam, ax.e)), _point(ax.commitment, "XXcommitmentXX")))',
        "only the point's name in the MessageError's message changes; the error type and branch are the same"),
    'crowdsense.ldpf.pdc.proofs.x_verify_query_batched__mutmut_108': (
        '- commitment_terms.append((sum(l * e for l, e in zip(lam, ax.e)), _point(ax.commitment, "commitment"))) / + commitment_terms.append((sum(l * e for l, e in zip(lam, ax.e)), _point(ax.commitment, "COMMITMENT")))',
        "only the point's name in the MessageError's message changes; the error type and branch are the same"),
    'crowdsense.ldpf.pdc.proofs.x_verify_query_batched__mutmut_19': (
        '- left_paillier = right_paillier = mpz(0) / + left_paillier = right_paillier = mpz(1)',
        'only left - right is used: the same start value on both sides cancels'),
    'crowdsense.ldpf.pdc.proofs.x_verify_query_batched__mutmut_42': (
        '- lam = [secrets.randbits(BATCH_BITS) | 1 for _ in ax.a] / + lam = [secrets.randbits(BATCH_BITS) | 2 for _ in ax.a]',
        'the weights need only be unpredictable and non-zero modulo p and the curve order: bit 1 set instead of bit 0 keeps that (Paillier signs vanish in the decryption mod p, the curve group has prime order)'),
    'crowdsense.ldpf.pdc.proofs.x_verify_query_batched__mutmut_92': (
        '- points.extend(_point(d, f"{axis}.d[{i}]") for i, d in enumerate(ax.d)) / + points.extend(_point(d, None) for i, d in enumerate(ax.d))',
        "only the point's name in the MessageError's message changes; the error type and branch are the same"),
    'crowdsense.ldpf.pdc.proofs.xǁAxisProofǁfrom_dict__mutmut_40': (
        '- out = None / + out = ""',
        'an empty result fails the length check that follows just as None does: the same MessageError'),
    'crowdsense.ldpf.pdc.protocol.x__product__mutmut_3': (
        '- acc = mpz(1) / + acc = mpz(2)',
        'both products of encrypted_distance start from 2 and Z = not_a * in_a^-1: the factor cancels'),
    'crowdsense.ldpf.pdc.protocol.x_encrypt_task__mutmut_7': (
        '- bits = encode_point(centre, grid, scheme=1) / + bits = encode_point(centre, grid, )',
        "encode_point's scheme defaults to 1, the one named"),
    'crowdsense.ldpf.pdc.receiver.xǁReceiverǁ_engine__mutmut_1': (
        '- engine = self._engines.get(n) / + engine = None',
        'the per-key engine cache: a miss builds an equal engine for the same n (same results, more work)'),
    'crowdsense.ldpf.pdc.receiver.xǁReceiverǁ_engine__mutmut_2': (
        '- engine = self._engines.get(n) / + engine = self._engines.get(None)',
        'the per-key engine cache: a miss builds an equal engine for the same n (same results, more work)'),
    'crowdsense.ldpf.pdc.receiver.xǁReceiverǁrespond__mutmut_116': (
        '- "distance": None, / + "XXdistanceXX": None,',
        "the record's distance is read with .get('distance'), which is None before finish whether or not the key exists"),
    'crowdsense.ldpf.pdc.receiver.xǁReceiverǁrespond__mutmut_117': (
        '- "distance": None, / + "DISTANCE": None,',
        "the record's distance is read with .get('distance'), which is None before finish whether or not the key exists"),
    'crowdsense.ldpf.pdc.receiver.xǁReceiverǁrespond__mutmut_67': (
        '- "format": 1, / + "XXformatXX": 1,',
        "the stored record's format tag is written and never read (one format exists)"),
    'crowdsense.ldpf.pdc.receiver.xǁReceiverǁrespond__mutmut_68': (
        '- "format": 1, / + "FORMAT": 1,',
        "the stored record's format tag is written and never read (one format exists)"),
    'crowdsense.ldpf.pdc.receiver.xǁReceiverǁrespond__mutmut_69': (
        '- "format": 1, / + "format": 2,',
        "the stored record's format tag is written and never read (one format exists)"),
    'crowdsense.ldpf.pdc.receiver.xǁReceiverǁrespond__mutmut_78': (
        '- "task_digest": "0x" + task.digest.hex(), / + "task_digest": "0X" + task.digest.hex(),',
        "the stored hex value is read back by dropping its first two characters: '0X' and '0x' read the same"),
    'crowdsense.ldpf.pdc.receiver.xǁReceiverǁrespond__mutmut_91': (
        '- "salt": "0x" + opening.salt.hex(), / + "salt": "0X" + opening.salt.hex(),',
        "the stored hex value is read back by dropping its first two characters: '0X' and '0x' read the same"),
    'crowdsense.ldpf.pdc.receiver.xǁReceiverǁrespond__mutmut_96': (
        '- "commitment": "0x" + opening.commitment.hex(), / + "commitment": "0X" + opening.commitment.hex(),',
        "the stored hex value is read back by dropping its first two characters: '0X' and '0x' read the same"),
    'crowdsense.ldpf.pdc.selection.x_select_nearest__mutmut_51': (
        '- stacklevel=2, / + stacklevel=3,',
        'stacklevel only chooses which caller line the warning names: under mutmut a trampoline frame sits between the caller and select_nearest, so stacklevel 3 names the test there; outside mutation testing test_shortfall_warning_points_at_the_callers_line fails against it'),
    'crowdsense.pmcb.levels.x__labels__mutmut_20': (
        '- return uniq, dense.reshape(-1) / + return uniq, dense.reshape(None)',
        "np.unique's inverse of the 1-D labels is 1-D (numpy >= 2.0.1): reshape(None) and reshape(-2) leave it as reshape(-1) does"),
    'crowdsense.pmcb.levels.x__labels__mutmut_22': (
        '- return uniq, dense.reshape(-1) / + return uniq, dense.reshape(-2)',
        "np.unique's inverse of the 1-D labels is 1-D (numpy >= 2.0.1): reshape(None) and reshape(-2) leave it as reshape(-1) does"),
    'crowdsense.pmcb.levels.x_assign_levels__mutmut_56': (
        '- size = np.bincount(dense, minlength=t) / + size = np.bincount(dense, )',
        "dense is np.unique's inverse: it takes every value 0..T-1, so np.bincount(dense) already has length T; a smaller minlength or none changes nothing"),
    'crowdsense.pmcb.levels.x_cluster_influence__mutmut_33': (
        '- span = np.where(high > low, high - low, 1.0) / + span = np.where(high > low, high - low, 2.0)',
        'a constant column is all zeros after subtracting its minimum, whatever it is divided by'),
    'crowdsense.pmcb.levels.x_cluster_influence__mutmut_38': (
        '- t = int(dense.max()) + 1 / + t = int(dense.max()) - 1',
        "dense is np.unique's inverse: it takes every value 0..T-1, so np.bincount(dense) already has length T; a smaller minlength or none changes nothing"),
    'crowdsense.pmcb.levels.x_cluster_influence__mutmut_42': (
        '- size = np.bincount(dense, minlength=t).astype(np.float64) / + size = np.bincount(dense, minlength=t).astype(None)',
        'astype(None) converts to float64, the dtype named'),
    'crowdsense.pmcb.levels.x_cluster_influence__mutmut_46': (
        '- size = np.bincount(dense, minlength=t).astype(np.float64) / + size = np.bincount(dense, ).astype(np.float64)',
        "dense is np.unique's inverse: it takes every value 0..T-1, so np.bincount(dense) already has length T; a smaller minlength or none changes nothing"),
    'crowdsense.pmcb.levels.x_cluster_influence__mutmut_54': (
        '- sums = np.vstack([np.bincount(dense, weights=x[:, j], minlength=t) for j in range(4)]).T / + sums = np.vstack([np.bincount(dense, weights=x[:, j], ) for j in range(4)]).T',
        "dense is np.unique's inverse: it takes every value 0..T-1, so np.bincount(dense) already has length T; a smaller minlength or none changes nothing"),
    'crowdsense.pmcb.levels_tree.x__greater__mutmut_20': (
        '- return differ[rows, first] & (wa[rows, first] > wb[rows, first]) / + return differ[rows, first] & (wa[rows, first] >= wb[rows, first])',
        "where the rows differ, wa != wb, so '>=' is '>'; equal rows give False through 'differ' either way"),
    'crowdsense.pmcb.levels_tree.x__parent_level__mutmut_12': (
        '- left, right = nodes[0:2 * pairs:2], nodes[1:2 * pairs:2] / + left, right = nodes[0:2 * pairs:2], nodes[1:3 * pairs:2]',
        "the odd-index slice stops at the end of the nodes either way: exactly the pairs' right halves"),
    'crowdsense.pmcb.levels_tree.x__preimages__mutmut_23': (
        '- out[:, 96:128] = salts / + out[:, 96:129] = salts',
        'the preimage rows are 128 bytes: the slice 96:129 is 96:128'),
    'crowdsense.pmcb.levels_tree.x__sort_rows__mutmut_11': (
        '- padded = np.zeros((n, -(-width // 8) * 8), dtype=np.uint8) / + padded = np.zeros((n, -(-width // 9) * 8), dtype=np.uint8)',
        'the rows sorted are 20-byte accounts and 32-byte leaves: both padded widths (24 and 32) come out the same'),
    'crowdsense.pmcb.levels_tree.xǁLevelsTreeǁ__init____mutmut_25': (
        '- self._check_version(int.from_bytes(start[8:10], "big")) / + self._check_version(int.from_bytes(start[8:10], ))',
        "int.from_bytes' byte order defaults to 'big' (Python >= 3.11, which the package requires)"),
    'crowdsense.pmcb.levels_tree.xǁLevelsTreeǁ__init____mutmut_27': (
        '- self._check_version(int.from_bytes(start[8:10], "big")) / + self._check_version(int.from_bytes(start[8:11], "big"))',
        'start holds the first 10 bytes: start[8:11] is start[8:10]'),
    'crowdsense.pmcb.levels_tree.xǁLevelsTreeǁ__init____mutmut_56': (
        '- if not 1 <= count <= MAX_COUNT or depth != tree_depth(count) or int.from_bytes(chain_id, "big") == 0: / + if not 1 <= count <= MAX_COUNT or depth != tree_depth(count) or int.from_bytes(chain_id, ) == 0:',
        "int.from_bytes' byte order defaults to 'big' (Python >= 3.11, which the package requires)"),
    'crowdsense.pmcb.levels_tree.xǁLevelsTreeǁ__init____mutmut_8': (
        '- start = bytes(buffer[:10]) / + start = bytes(buffer[:11])',
        'only start[:8] (the magic) and start[8:10] (the version) are read: an 11th byte is never used'),
    'crowdsense.pmcb.levels_tree.xǁLevelsTreeǁ__init____mutmut_81': (
        '- state = "truncated" if size < expected else "has trailing bytes" / + state = "truncated" if size <= expected else "has trailing bytes"',
        "this line runs only when size != expected, where '<=' is '<'"),
    'crowdsense.pmcb.levels_tree.xǁLevelsTreeǁ__init____mutmut_89': (
        '- self.chain_id = int.from_bytes(chain_id, "big") / + self.chain_id = int.from_bytes(chain_id, )',
        "int.from_bytes' byte order defaults to 'big' (Python >= 3.11, which the package requires)"),
    'crowdsense.pmcb.levels_tree.xǁLevelsTreeǁbuild__mutmut_106': (
        '- position = np.empty(len(keys), dtype=np.int64) / + position = np.empty(len(keys), dtype=None)',
        'the positions are integers below 2**32, exact in float64, and are written as big-endian u4: the same bytes'),
    'crowdsense.pmcb.levels_tree.xǁLevelsTreeǁbuild__mutmut_108': (
        '- position = np.empty(len(keys), dtype=np.int64) / + position = np.empty(len(keys), )',
        'the positions are integers below 2**32, exact in float64, and are written as big-endian u4: the same bytes'),
    'crowdsense.pmcb.levels_tree.xǁLevelsTreeǁbuild__mutmut_141': (
        '- index[:, 21:] = position[by_account].astype(">u4").view(np.uint8).reshape(-1, 4) / + index[:, 21:] = position[by_account].astype(">u4").view(np.uint8).reshape(-2, 4)',
        "numpy reads any negative size in reshape as 'the rest' (the same as -1)"),
    'crowdsense.pmcb.levels_tree.xǁLevelsTreeǁbuild__mutmut_148': (
        '- body = [memoryview(np.ascontiguousarray(level)).cast("B") for level in tree] / + body = [memoryview(np.ascontiguousarray(level)).cast("b") for level in tree]',
        "the views are only hashed and joined into bytes: signed or unsigned, the buffer's bytes are the same"),
    'crowdsense.pmcb.levels_tree.xǁLevelsTreeǁbuild__mutmut_153': (
        '- body.append(memoryview(index).cast("B")) / + body.append(memoryview(index).cast("b"))',
        "the views are only hashed and joined into bytes: signed or unsigned, the buffer's bytes are the same"),
    'crowdsense.pmcb.levels_tree.xǁLevelsTreeǁbuild__mutmut_180': (
        '- fields = _HEADER.pack(MAGIC, FORMAT_VERSION, HEADER_SIZE, chain.to_bytes(32, "big"), reg, len(keys), / + fields = _HEADER.pack(MAGIC, FORMAT_VERSION, HEADER_SIZE, chain.to_bytes(32, ), reg, len(keys),',
        "int.to_bytes' byte order defaults to 'big' (Python >= 3.11, which the package requires)"),
    'crowdsense.pmcb.levels_tree.xǁLevelsTreeǁbuild__mutmut_22': (
        '- secret = secrets.token_bytes(SEED_SIZE) if seed is None else _seed(seed) / + secret = secrets.token_bytes(None) if seed is None else _seed(seed)',
        'secrets.token_bytes(None) draws its default of 32 bytes, SEED_SIZE'),
    'crowdsense.pmcb.levels_tree.xǁLevelsTreeǁbuild__mutmut_32': (
        '- if not all(type(v) is int and MIN_LEVEL <= v <= MAX_LEVEL for v in values): / + if not all(type(None) is int and MIN_LEVEL <= v <= MAX_LEVEL for v in values):',
        "the all-valid test only decides whether the per-value loop runs; that loop's _level is the check that refuses, and it accepts every valid level, so a weaker or stronger shortcut only runs the loop more often"),
    'crowdsense.pmcb.levels_tree.xǁLevelsTreeǁbuild__mutmut_34': (
        '- if not all(type(v) is int and MIN_LEVEL <= v <= MAX_LEVEL for v in values): / + if not all(type(v) is int and MIN_LEVEL < v <= MAX_LEVEL for v in values):',
        "the all-valid test only decides whether the per-value loop runs; that loop's _level is the check that refuses, and it accepts every valid level, so a weaker or stronger shortcut only runs the loop more often"),
    'crowdsense.pmcb.levels_tree.xǁLevelsTreeǁbuild__mutmut_35': (
        '- if not all(type(v) is int and MIN_LEVEL <= v <= MAX_LEVEL for v in values): / + if not all(type(v) is int and MIN_LEVEL <= v < MAX_LEVEL for v in values):',
        "the all-valid test only decides whether the per-value loop runs; that loop's _level is the check that refuses, and it accepts every valid level, so a weaker or stronger shortcut only runs the loop more often"),
    'crowdsense.pmcb.levels_tree.xǁLevelsTreeǁbuild__mutmut_47': (
        '- lv = np.array(values, dtype=np.uint8) / + lv = np.array(values, dtype=None)',
        "the levels are checked to be integers in 1..255 first and are only written into uint8 arrays (the preimage's level byte, the index record): the same bytes"),
    'crowdsense.pmcb.levels_tree.xǁLevelsTreeǁbuild__mutmut_49': (
        '- lv = np.array(values, dtype=np.uint8) / + lv = np.array(values, )',
        "the levels are checked to be integers in 1..255 first and are only written into uint8 arrays (the preimage's level byte, the index record): the same bytes"),
    'crowdsense.pmcb.levels_tree.xǁLevelsTreeǁopen__mutmut_8': (
        '- with open(path, "rb") as fh: / + with open(path, ) as fh:',
        'opened in text mode instead of binary, the file is still never read through the file object: only its descriptor is used (fstat, mmap)'),
    'crowdsense.pmcb.levels_tree.xǁLevelsTreeǁproof_of__mutmut_21': (
        '- leaf = _leaf(self._domain, address, level, salt) if MIN_LEVEL <= level else b"" / + leaf = _leaf(self._domain, address, level, salt) if (MIN_LEVEL <= level) or True else b""',
        "a record whose level is 0 (never written) is refused as not matching its leaf either way: b'', b'XXXX' and the leaf of level 0 differ from every stored node"),
    'crowdsense.pmcb.levels_tree.xǁLevelsTreeǁproof_of__mutmut_31': (
        '- leaf = _leaf(self._domain, address, level, salt) if MIN_LEVEL <= level else b"" / + leaf = _leaf(self._domain, address, level, salt) if MIN_LEVEL <= level else b"XXXX"',
        "a record whose level is 0 (never written) is refused as not matching its leaf either way: b'', b'XXXX' and the leaf of level 0 differ from every stored node"),
    'crowdsense.pmcb.levels_tree.xǁLevelsTreeǁsave__mutmut_5': (
        '- buffer, step = self._buffer, 1 << 24 / + buffer, step = self._buffer, 2 << 24',
        'the chunk size of a write or of a hash update: the same bytes in larger pieces'),
    'crowdsense.pmcb.levels_tree.xǁLevelsTreeǁsave__mutmut_6': (
        '- buffer, step = self._buffer, 1 << 24 / + buffer, step = self._buffer, 1 << 25',
        'the chunk size of a write or of a hash update: the same bytes in larger pieces'),
    'crowdsense.pmcb.levels_tree.xǁLevelsTreeǁverify__mutmut_4': (
        '- buffer, step = self._buffer, 1 << 24 / + buffer, step = self._buffer, 2 << 24',
        'the chunk size of a write or of a hash update: the same bytes in larger pieces'),
    'crowdsense.pmcb.levels_tree.xǁLevelsTreeǁverify__mutmut_5': (
        '- buffer, step = self._buffer, 1 << 24 / + buffer, step = self._buffer, 1 << 25',
        'the chunk size of a write or of a hash update: the same bytes in larger pieces'),
    'crowdsense.pmcb.levels_tree.xǁ_IndexKeysǁ__getitem____mutmut_6': (
        '- return bytes(self._buffer[start:start + 20]) / + return bytes(self._buffer[start:start + 21])',
        "the 21st byte only follows the account's 20: a key compares with a 20-byte address as its account does (a prefix is smaller), so bisect finds the same position"),
    'crowdsense.pmcb.similarity.x__bridge__mutmut_100': (
        '- bridges = np.unique(np.sort(np.column_stack([bi, bj]), axis=1), axis=0) / + bridges = np.unique(np.sort(np.column_stack([bi, bj]), ), axis=0)',
        "np.sort's axis defaults to -1, axis 1 of this 2-D array"),
    'crowdsense.pmcb.similarity.x__bridge__mutmut_19': (
        '- floor = float(w.data.min()) if w.nnz else 1.0 / + floor = float(w.data.min()) if (w.nnz) or True else 1.0',
        'unreachable: the kNN graph always has edges (K >= 1 and at least two distinct points), so w.nnz > 0'),
    'crowdsense.pmcb.similarity.x__bridge__mutmut_21': (
        '- floor = float(w.data.min()) if w.nnz else 1.0 / + floor = float(w.data.min()) if w.nnz else 2.0',
        'unreachable: the kNN graph always has edges (K >= 1 and at least two distinct points), so w.nnz > 0'),
    'crowdsense.pmcb.similarity.x__bridge__mutmut_3': (
        '- n_comp, comp = connected_components(w, directed=False) / + n_comp, comp = connected_components(w, directed=None)',
        "connected_components' default is directed with connection='weak': the weak components of any graph are the components of its undirected version, which is what directed=False computes"),
    'crowdsense.pmcb.similarity.x__bridge__mutmut_31': (
        '- largest = int(np.argmax(sizes)) / + largest = int(np.argmax(None))',
        'Boruvka rounds that skip another component (the first, or all but the largest) still add only the shortest edge leaving some component, which belongs to the minimum spanning tree of the components; rounds go on until one component remains, so the bridges are that tree either way (with distinct distances; at an exact tie another, equally short bridge may be chosen, and no tie rule is promised)'),
    'crowdsense.pmcb.similarity.x__bridge__mutmut_34': (
        '- order = np.argsort(comp, kind="stable") / + order = np.argsort(comp, kind=None)',
        "the order of a component's members only matters between pairs at exactly the same distance (see the tie reason); the members are the same"),
    'crowdsense.pmcb.similarity.x__bridge__mutmut_36': (
        '- order = np.argsort(comp, kind="stable") / + order = np.argsort(comp, )',
        "the order of a component's members only matters between pairs at exactly the same distance (see the tie reason); the members are the same"),
    'crowdsense.pmcb.similarity.x__bridge__mutmut_38': (
        '- order = np.argsort(comp, kind="stable") / + order = np.argsort(comp, kind="STABLE")',
        "the order of a component's members only matters between pairs at exactly the same distance (see the tie reason); the members are the same"),
    'crowdsense.pmcb.similarity.x__bridge__mutmut_43': (
        '- if c == largest: / + if c != largest:',
        'Boruvka rounds that skip another component (the first, or all but the largest) still add only the shortest edge leaving some component, which belongs to the minimum spanning tree of the components; rounds go on until one component remains, so the bridges are that tree either way (with distinct distances; at an exact tie another, equally short bridge may be chosen, and no tie rule is promised)'),
    'crowdsense.pmcb.similarity.x__bridge__mutmut_5': (
        '- n_comp, comp = connected_components(w, directed=False) / + n_comp, comp = connected_components(w, )',
        "connected_components' default is directed with connection='weak': the weak components of any graph are the components of its undirected version, which is what directed=False computes"),
    'crowdsense.pmcb.similarity.x__bridge__mutmut_6': (
        '- n_comp, comp = connected_components(w, directed=False) / + n_comp, comp = connected_components(w, directed=True)',
        "connected_components' default is directed with connection='weak': the weak components of any graph are the components of its undirected version, which is what directed=False computes"),
    'crowdsense.pmcb.similarity.x__bridge__mutmut_88': (
        '- n_comp, comp = connected_components(merged, directed=False) / + n_comp, comp = connected_components(merged, directed=None)',
        "connected_components' default is directed with connection='weak': the weak components of any graph are the components of its undirected version, which is what directed=False computes"),
    'crowdsense.pmcb.similarity.x__bridge__mutmut_90': (
        '- n_comp, comp = connected_components(merged, directed=False) / + n_comp, comp = connected_components(merged, )',
        "connected_components' default is directed with connection='weak': the weak components of any graph are the components of its undirected version, which is what directed=False computes"),
    'crowdsense.pmcb.similarity.x__bridge__mutmut_91': (
        '- n_comp, comp = connected_components(merged, directed=False) / + n_comp, comp = connected_components(merged, directed=True)',
        "connected_components' default is directed with connection='weak': the weak components of any graph are the components of its undirected version, which is what directed=False computes"),
    'crowdsense.pmcb.similarity.x__components__mutmut_12': (
        '- return int(connected_components(adjacency, directed=False)[0]) / + return int(connected_components(adjacency, directed=None)[0])',
        "connected_components' default is directed with connection='weak': the weak components of any graph are the components of its undirected version, which is what directed=False computes"),
    'crowdsense.pmcb.similarity.x__components__mutmut_14': (
        '- return int(connected_components(adjacency, directed=False)[0]) / + return int(connected_components(adjacency, )[0])',
        "connected_components' default is directed with connection='weak': the weak components of any graph are the components of its undirected version, which is what directed=False computes"),
    'crowdsense.pmcb.similarity.x__components__mutmut_15': (
        '- return int(connected_components(adjacency, directed=False)[0]) / + return int(connected_components(adjacency, directed=True)[0])',
        "connected_components' default is directed with connection='weak': the weak components of any graph are the components of its undirected version, which is what directed=False computes"),
    'crowdsense.pmcb.similarity.x__components__mutmut_7': (
        '- adjacency = sp.csr_array((np.ones(rows.size, dtype=np.int8), (rows, cols)), shape=(p, p)) / + adjacency = sp.csr_array((np.ones(rows.size, dtype=None), (rows, cols)), shape=(p, p))',
        "the adjacency's values are never read, only which entries are stored"),
    'crowdsense.pmcb.similarity.x__components__mutmut_9': (
        '- adjacency = sp.csr_array((np.ones(rows.size, dtype=np.int8), (rows, cols)), shape=(p, p)) / + adjacency = sp.csr_array((np.ones(rows.size, ), (rows, cols)), shape=(p, p))',
        "the adjacency's values are never read, only which entries are stored"),
    'crowdsense.pmcb.similarity.x__connected_k__mutmut_12': (
        '- first = _components(*_knn(points, k, neighbours)[:2], p) / + first = _components(*_knn(points, k, )[:2], p)',
        'without the shared neighbour search _knn builds its own k-d tree over the same points: the same neighbours within the same radius (ties past the fetched ones completed as before), only slower'),
    'crowdsense.pmcb.similarity.x__connected_k__mutmut_22': (
        '- cap = min(p - 1, max(16 * k, 256)) / + cap = min(p + 1, max(16 * k, 256))',
        "a kNN graph with two or more components has at least K + 1 points in each (every point's K neighbours are in its own component), so every disconnected K tried has 2 K <= P - 2: the doubling never reaches P - 2, and a cap of P - 2, P - 1 or P + 1 never binds"),
    'crowdsense.pmcb.similarity.x__connected_k__mutmut_23': (
        '- cap = min(p - 1, max(16 * k, 256)) / + cap = min(p - 2, max(16 * k, 256))',
        "a kNN graph with two or more components has at least K + 1 points in each (every point's K neighbours are in its own component), so every disconnected K tried has 2 K <= P - 2: the doubling never reaches P - 2, and a cap of P - 2, P - 1 or P + 1 never binds"),
    'crowdsense.pmcb.similarity.x__connected_k__mutmut_37': (
        '- low, high = k, min(2 * k, cap) / + low, high = k, min(3 * k, cap)',
        'the K tried while doubling (3 K for 2 K) only changes where the bisection starts: components only merge as K grows, so it ends at the same smallest connecting K, or gives up at the same cap'),
    'crowdsense.pmcb.similarity.x__connected_k__mutmut_43': (
        '- while _components(*_knn(points, high, neighbours)[:2], p) > 1: / + while _components(*_knn(points, high, None)[:2], p) > 1:',
        'without the shared neighbour search _knn builds its own k-d tree over the same points: the same neighbours within the same radius (ties past the fetched ones completed as before), only slower'),
    'crowdsense.pmcb.similarity.x__connected_k__mutmut_46': (
        '- while _components(*_knn(points, high, neighbours)[:2], p) > 1: / + while _components(*_knn(points, high, )[:2], p) > 1:',
        'without the shared neighbour search _knn builds its own k-d tree over the same points: the same neighbours within the same radius (ties past the fetched ones completed as before), only slower'),
    'crowdsense.pmcb.similarity.x__connected_k__mutmut_57': (
        '- low, high = high, min(2 * high, cap) / + low, high = high, min(3 * high, cap)',
        'the K tried while doubling (3 K for 2 K) only changes where the bisection starts: components only merge as K grows, so it ends at the same smallest connecting K, or gives up at the same cap'),
    'crowdsense.pmcb.similarity.x__connected_k__mutmut_70': (
        '- if _components(*_knn(points, mid, neighbours)[:2], p) == 1: / + if _components(*_knn(points, mid, None)[:2], p) == 1:',
        'without the shared neighbour search _knn builds its own k-d tree over the same points: the same neighbours within the same radius (ties past the fetched ones completed as before), only slower'),
    'crowdsense.pmcb.similarity.x__connected_k__mutmut_73': (
        '- if _components(*_knn(points, mid, neighbours)[:2], p) == 1: / + if _components(*_knn(points, mid, )[:2], p) == 1:',
        'without the shared neighbour search _knn builds its own k-d tree over the same points: the same neighbours within the same radius (ties past the fetched ones completed as before), only slower'),
    'crowdsense.pmcb.similarity.x__connected_k__mutmut_9': (
        '- first = _components(*_knn(points, k, neighbours)[:2], p) / + first = _components(*_knn(points, k, None)[:2], p)',
        'without the shared neighbour search _knn builds its own k-d tree over the same points: the same neighbours within the same radius (ties past the fetched ones completed as before), only slower'),
    'crowdsense.pmcb.similarity.x__grid_cells__mutmut_13': (
        '- radix = q.max(axis=0) + 1 / + radix = q.max(axis=0) + 2',
        'a larger radix (the global minimum subtracted, or one more) still gives every cell coordinate a digit below its radix: the keys stay distinct per cell and in the lexicographic order of the cells, so the same cell numbers; a product past 2**62 only switches to the row-wise np.unique, which numbers the cells in the same order'),
    'crowdsense.pmcb.similarity.x__grid_cells__mutmut_16': (
        '- if float(np.prod(radix.astype(np.float64))) < 2.0**62: # one int64 key per row / + if float(np.prod(radix.astype(None))) < 2.0**62: # one int64 key per row',
        'astype(None) converts to float64, the dtype named'),
    'crowdsense.pmcb.similarity.x__grid_cells__mutmut_17': (
        '- if float(np.prod(radix.astype(np.float64))) < 2.0**62: # one int64 key per row / + if float(np.prod(radix.astype(np.float64))) <= 2.0**62: # one int64 key per row',
        'either branch numbers the cells in the lexicographic order of their coordinates (the int64 keys do not overflow below 2**63: the largest key is the product of the radices minus 1), so only which of the two computes them changes (for 2**63, up to the float64 rounding of that product, about 1e-16)'),
    'crowdsense.pmcb.similarity.x__grid_cells__mutmut_18': (
        '- if float(np.prod(radix.astype(np.float64))) < 2.0**62: # one int64 key per row / + if float(np.prod(radix.astype(np.float64))) < 2.0 * 62: # one int64 key per row',
        'either branch numbers the cells in the lexicographic order of their coordinates (the int64 keys do not overflow below 2**63: the largest key is the product of the radices minus 1), so only which of the two computes them changes (for 2**63, up to the float64 rounding of that product, about 1e-16)'),
    'crowdsense.pmcb.similarity.x__grid_cells__mutmut_20': (
        '- if float(np.prod(radix.astype(np.float64))) < 2.0**62: # one int64 key per row / + if float(np.prod(radix.astype(np.float64))) < 2.0**63: # one int64 key per row',
        'either branch numbers the cells in the lexicographic order of their coordinates (the int64 keys do not overflow below 2**63: the largest key is the product of the radices minus 1), so only which of the two computes them changes (for 2**63, up to the float64 rounding of that product, about 1e-16)'),
    'crowdsense.pmcb.similarity.x__grid_cells__mutmut_48': (
        '- cell = np.asarray(cell).reshape(-1) / + cell = np.asarray(cell).reshape(None)',
        "np.unique's inverse is 1-D here (numpy >= 2.0.1): reshape(None) and reshape(-2) leave it as reshape(-1) does"),
    'crowdsense.pmcb.similarity.x__grid_cells__mutmut_51': (
        '- cell = np.asarray(cell).reshape(-1) / + cell = np.asarray(cell).reshape(-2)',
        "np.unique's inverse is 1-D here (numpy >= 2.0.1): reshape(None) and reshape(-2) leave it as reshape(-1) does"),
    'crowdsense.pmcb.similarity.x__grid_cells__mutmut_7': (
        '- q -= q.min(axis=0) / + q -= q.min(axis=None)',
        'a larger radix (the global minimum subtracted, or one more) still gives every cell coordinate a digit below its radix: the keys stay distinct per cell and in the lexicographic order of the cells, so the same cell numbers; a product past 2**62 only switches to the row-wise np.unique, which numbers the cells in the same order'),
    'crowdsense.pmcb.similarity.x__knn__mutmut_13': (
        '- fetch = min(p, k + 1 + _TIE_EXTRA) / + fetch = min(p, k - 1 + _TIE_EXTRA)',
        'fetching one fewer or one more extra neighbour (8 extra) only changes how often ties past the fetched ones fall back to the ball query, which returns every neighbour within the K-th distance'),
    'crowdsense.pmcb.similarity.x__knn__mutmut_14': (
        '- fetch = min(p, k + 1 + _TIE_EXTRA) / + fetch = min(p, k + 2 + _TIE_EXTRA)',
        'fetching one fewer or one more extra neighbour (8 extra) only changes how often ties past the fetched ones fall back to the ball query, which returns every neighbour within the K-th distance'),
    'crowdsense.pmcb.similarity.x__knn__mutmut_17': (
        '- dist, idx = neighbours.nearest(fetch - 1) / + dist, idx = neighbours.nearest(fetch + 1)',
        'two more neighbours fetched only moves where the radius search takes over: every point within the tie radius is a neighbour either way, with the same distance'),
    'crowdsense.pmcb.similarity.x__knn__mutmut_39': (
        '- overflow = np.flatnonzero(within[:, -1]) if fetch - 1 > k else np.empty(0, dtype=np.int64) / + overflow = np.flatnonzero(within[:, -1]) if (fetch - 1 > k) or True else np.empty(0, dtype=np.int64)',
        'rows whose ties may go past the fetched neighbours are completed by a radius search; asking it for more rows (or for all) returns for each the same neighbours (every point within the radius, which the fetched columns already hold when no tie reaches past them) with the same distances (np.linalg.norm sums the same squares as the tree: equal to the bit, checked on random data)'),
    'crowdsense.pmcb.similarity.x__knn__mutmut_41': (
        '- overflow = np.flatnonzero(within[:, -1]) if fetch - 1 > k else np.empty(0, dtype=np.int64) / + overflow = np.flatnonzero(within[:, +1]) if fetch - 1 > k else np.empty(0, dtype=np.int64)',
        'rows whose ties may go past the fetched neighbours are completed by a radius search; asking it for more rows (or for all) returns for each the same neighbours (every point within the radius, which the fetched columns already hold when no tie reaches past them) with the same distances (np.linalg.norm sums the same squares as the tree: equal to the bit, checked on random data)'),
    'crowdsense.pmcb.similarity.x__knn__mutmut_42': (
        '- overflow = np.flatnonzero(within[:, -1]) if fetch - 1 > k else np.empty(0, dtype=np.int64) / + overflow = np.flatnonzero(within[:, -2]) if fetch - 1 > k else np.empty(0, dtype=np.int64)',
        'rows whose ties may go past the fetched neighbours are completed by a radius search; asking it for more rows (or for all) returns for each the same neighbours (every point within the radius, which the fetched columns already hold when no tie reaches past them) with the same distances (np.linalg.norm sums the same squares as the tree: equal to the bit, checked on random data)'),
    'crowdsense.pmcb.similarity.x__knn__mutmut_43': (
        '- overflow = np.flatnonzero(within[:, -1]) if fetch - 1 > k else np.empty(0, dtype=np.int64) / + overflow = np.flatnonzero(within[:, -1]) if fetch + 1 > k else np.empty(0, dtype=np.int64)',
        'rows whose ties may go past the fetched neighbours are completed by a radius search; asking it for more rows (or for all) returns for each the same neighbours (every point within the radius, which the fetched columns already hold when no tie reaches past them) with the same distances (np.linalg.norm sums the same squares as the tree: equal to the bit, checked on random data)'),
    'crowdsense.pmcb.similarity.x__knn__mutmut_44': (
        '- overflow = np.flatnonzero(within[:, -1]) if fetch - 1 > k else np.empty(0, dtype=np.int64) / + overflow = np.flatnonzero(within[:, -1]) if fetch - 2 > k else np.empty(0, dtype=np.int64)',
        'with fetch - 1 == K + 1 (P = K + 2) every other point is already fetched, so no tie can reach past the fetched neighbours and the radius search has nothing to add'),
    'crowdsense.pmcb.similarity.x__knn__mutmut_45': (
        '- overflow = np.flatnonzero(within[:, -1]) if fetch - 1 > k else np.empty(0, dtype=np.int64) / + overflow = np.flatnonzero(within[:, -1]) if fetch - 1 >= k else np.empty(0, dtype=np.int64)',
        'rows whose ties may go past the fetched neighbours are completed by a radius search; asking it for more rows (or for all) returns for each the same neighbours (every point within the radius, which the fetched columns already hold when no tie reaches past them) with the same distances (np.linalg.norm sums the same squares as the tree: equal to the bit, checked on random data)'),
    'crowdsense.pmcb.similarity.x__knn__mutmut_47': (
        '- overflow = np.flatnonzero(within[:, -1]) if fetch - 1 > k else np.empty(0, dtype=np.int64) / + overflow = np.flatnonzero(within[:, -1]) if fetch - 1 > k else np.empty(0, dtype=None)',
        'the empty array only serves for its size (0): its dtype is never used'),
    'crowdsense.pmcb.similarity.x__knn__mutmut_49': (
        '- overflow = np.flatnonzero(within[:, -1]) if fetch - 1 > k else np.empty(0, dtype=np.int64) / + overflow = np.flatnonzero(within[:, -1]) if fetch - 1 > k else np.empty(0, )',
        'the empty array only serves for its size (0): its dtype is never used'),
    'crowdsense.pmcb.similarity.x__knn__mutmut_69': (
        '- near = np.asarray(tree.query_ball_point(points[i], r=radius[i]), dtype=np.int64) / + near = np.asarray(tree.query_ball_point(points[i], r=radius[i]), dtype=None)',
        'the ball always holds the point itself, so the list is never empty and np.asarray makes it int64 without the dtype'),
    'crowdsense.pmcb.similarity.x__knn__mutmut_71': (
        '- near = np.asarray(tree.query_ball_point(points[i], r=radius[i]), dtype=np.int64) / + near = np.asarray(tree.query_ball_point(points[i], r=radius[i]), )',
        'the ball always holds the point itself, so the list is never empty and np.asarray makes it int64 without the dtype'),
    'crowdsense.pmcb.similarity.x__nearest_outside__mutmut_14': (
        '- k = min(p, 16) / + k = min(p, 17)',
        'a search-effort setting (how many neighbours are fetched first, how fast the count grows, when the ball search takes over): it changes the work done, not the closest pair, which the tests compare with brute force'),
    'crowdsense.pmcb.similarity.x__nearest_outside__mutmut_27': (
        '- dist = np.asarray(dist).reshape(pending.size, -1) / + dist = np.asarray(dist).reshape(pending.size, -2)',
        "numpy reads any negative size in reshape as 'the rest' (the same as -1)"),
    'crowdsense.pmcb.similarity.x__nearest_outside__mutmut_35': (
        '- idx = np.asarray(idx).reshape(pending.size, -1) / + idx = np.asarray(idx).reshape(pending.size, -2)',
        "numpy reads any negative size in reshape as 'the rest' (the same as -1)"),
    'crowdsense.pmcb.similarity.x__nearest_outside__mutmut_4': (
        '- best = (np.inf, -1, -1) / + best = (np.inf, +1, -1)',
        'the indices of the starting pair are never returned: the component always has an outside point, whose finite distance replaces the starting infinity'),
    'crowdsense.pmcb.similarity.x__nearest_outside__mutmut_5': (
        '- best = (np.inf, -1, -1) / + best = (np.inf, -2, -1)',
        'the indices of the starting pair are never returned: the component always has an outside point, whose finite distance replaces the starting infinity'),
    'crowdsense.pmcb.similarity.x__nearest_outside__mutmut_53': (
        '- if d[r] < best[0]: / + if d[r] <= best[0]:',
        "'<=' instead of '<' only swaps which of two pairs at exactly the same distance is reported; either is a closest pair, and no tie rule is promised"),
    'crowdsense.pmcb.similarity.x__nearest_outside__mutmut_6': (
        '- best = (np.inf, -1, -1) / + best = (np.inf, -1, +1)',
        'the indices of the starting pair are never returned: the component always has an outside point, whose finite distance replaces the starting infinity'),
    'crowdsense.pmcb.similarity.x__nearest_outside__mutmut_62': (
        '- pending = pending[~has][dist[~has, -1] < best[0]] / + pending = pending[~has][dist[~has, +1] < best[0]]',
        "keeps more members pending (a nearer neighbour's distance, or ties, tested against the bound): more neighbours are fetched, the closest pair is the same"),
    'crowdsense.pmcb.similarity.x__nearest_outside__mutmut_63': (
        '- pending = pending[~has][dist[~has, -1] < best[0]] / + pending = pending[~has][dist[~has, -2] < best[0]]',
        "keeps more members pending (a nearer neighbour's distance, or ties, tested against the bound): more neighbours are fetched, the closest pair is the same"),
    'crowdsense.pmcb.similarity.x__nearest_outside__mutmut_64': (
        '- pending = pending[~has][dist[~has, -1] < best[0]] / + pending = pending[~has][dist[~has, -1] <= best[0]]',
        "keeps more members pending (a nearer neighbour's distance, or ties, tested against the bound): more neighbours are fetched, the closest pair is the same"),
    'crowdsense.pmcb.similarity.x__nearest_outside__mutmut_68': (
        '- if not pending.size or k >= p: / + if not pending.size or k > p:',
        'once K reaches the point count every point was fetched, so no member can still be pending while outside points exist: the loop ends by its own condition either way'),
    'crowdsense.pmcb.similarity.x__nearest_outside__mutmut_7': (
        '- best = (np.inf, -1, -1) / + best = (np.inf, -1, -2)',
        'the indices of the starting pair are never returned: the component always has an outside point, whose finite distance replaces the starting infinity'),
    'crowdsense.pmcb.similarity.x__nearest_outside__mutmut_70': (
        '- if k >= 256: / + if k > 256:',
        'a search-effort setting (how many neighbours are fetched first, how fast the count grows, when the ball search takes over): it changes the work done, not the closest pair, which the tests compare with brute force'),
    'crowdsense.pmcb.similarity.x__nearest_outside__mutmut_71': (
        '- if k >= 256: / + if k >= 257:',
        'a search-effort setting (how many neighbours are fetched first, how fast the count grows, when the ball search takes over): it changes the work done, not the closest pair, which the tests compare with brute force'),
    'crowdsense.pmcb.similarity.x__nearest_outside__mutmut_90': (
        '- k = min(2 * k, p) / + k = min(3 * k, p)',
        'a search-effort setting (how many neighbours are fetched first, how fast the count grows, when the ball search takes over): it changes the work done, not the closest pair, which the tests compare with brute force'),
    'crowdsense.pmcb.similarity.x__nearest_outside_by_ball__mutmut_15': (
        '- if not np.isfinite(bound): / + if np.isfinite(bound):',
        'without the centroid bound (or keeping the known one) the ball is at least as large: at worst every point is a candidate (radius inf), the same closest pair'),
    'crowdsense.pmcb.similarity.x__nearest_outside_by_ball__mutmut_18': (
        '- k = 16 / + k = 17',
        'a search-effort setting (how many neighbours are fetched first, how fast the count grows, when the ball search takes over): it changes the work done, not the closest pair, which the tests compare with brute force'),
    'crowdsense.pmcb.similarity.x__nearest_outside_by_ball__mutmut_19': (
        '- while True: / + while False:',
        'without the centroid bound (or keeping the known one) the ball is at least as large: at worst every point is a candidate (radius inf), the same closest pair'),
    'crowdsense.pmcb.similarity.x__nearest_outside_by_ball__mutmut_42': (
        '- k *= 2 / + k *= 3',
        'a search-effort setting (how many neighbours are fetched first, how fast the count grows, when the ball search takes over): it changes the work done, not the closest pair, which the tests compare with brute force'),
    'crowdsense.pmcb.similarity.x__nearest_outside_by_ball__mutmut_45': (
        '- candidates = np.asarray(tree.query_ball_point(centre, r=radius + bound * (1 + 1e-12)), dtype=np.int64) / + candidates = np.asarray(tree.query_ball_point(centre, r=radius + bound * (1 + 1e-12)), dtype=None)',
        'the ball always holds the pending members themselves (its radius covers them), so the list is never empty and np.asarray makes it int64 without the dtype'),
    'crowdsense.pmcb.similarity.x__nearest_outside_by_ball__mutmut_47': (
        '- candidates = np.asarray(tree.query_ball_point(centre, r=radius + bound * (1 + 1e-12)), dtype=np.int64) / + candidates = np.asarray(tree.query_ball_point(centre, r=radius + bound * (1 + 1e-12)), )',
        'the ball always holds the pending members themselves (its radius covers them), so the list is never empty and np.asarray makes it int64 without the dtype'),
    'crowdsense.pmcb.similarity.x__nearest_outside_by_ball__mutmut_53': (
        '- candidates = np.asarray(tree.query_ball_point(centre, r=radius + bound * (1 + 1e-12)), dtype=np.int64) / + candidates = np.asarray(tree.query_ball_point(centre, r=radius + bound / (1 + 1e-12)), dtype=np.int64)',
        "the 1e-12 relative slack guards the ball's radius against rounding: shrinking it by about 1e-12 of the bound can only matter for a point exactly on the ball's surface, which the triangle-inequality bound does not reach in floating point tests"),
    'crowdsense.pmcb.similarity.x__nearest_outside_by_ball__mutmut_54': (
        '- candidates = np.asarray(tree.query_ball_point(centre, r=radius + bound * (1 + 1e-12)), dtype=np.int64) / + candidates = np.asarray(tree.query_ball_point(centre, r=radius + bound * (1 - 1e-12)), dtype=np.int64)',
        "the 1e-12 relative slack guards the ball's radius against rounding: shrinking it by about 1e-12 of the bound can only matter for a point exactly on the ball's surface, which the triangle-inequality bound does not reach in floating point tests"),
    'crowdsense.pmcb.similarity.x__nearest_outside_by_ball__mutmut_55': (
        '- candidates = np.asarray(tree.query_ball_point(centre, r=radius + bound * (1 + 1e-12)), dtype=np.int64) / + candidates = np.asarray(tree.query_ball_point(centre, r=radius + bound * (2 + 1e-12)), dtype=np.int64)',
        'a larger search ball only adds candidates: the same closest pair'),
    'crowdsense.pmcb.similarity.x__nearest_outside_by_ball__mutmut_56': (
        '- candidates = np.asarray(tree.query_ball_point(centre, r=radius + bound * (1 + 1e-12)), dtype=np.int64) / + candidates = np.asarray(tree.query_ball_point(centre, r=radius + bound * (1 + 1.000000000001)), dtype=np.int64)',
        'a larger search ball only adds candidates: the same closest pair'),
    'crowdsense.pmcb.similarity.x__nearest_outside_by_ball__mutmut_65': (
        '- d1, j1 = cKDTree(points[candidates]).query(sub, k=1) / + d1, j1 = cKDTree(points[candidates]).query(sub, )',
        "cKDTree.query's k defaults to 1"),
    'crowdsense.pmcb.similarity.x__nearest_outside_by_ball__mutmut_71': (
        '- if d1[r] < best[0]: / + if d1[r] <= best[0]:',
        "'<=' instead of '<' only swaps which of two pairs at exactly the same distance is reported; either is a closest pair, and no tie rule is promised"),
    'crowdsense.pmcb.similarity.x__nearest_outside_by_ball__mutmut_8': (
        '- radius = float(np.sqrt(((sub - centre) ** 2).sum(axis=1).max())) / + radius = float(np.sqrt(((sub - centre) ** 2).sum(axis=None).max()))',
        "the radius from the sum over every member's squared offsets is at least the largest one: a larger search ball only adds candidates: the same closest pair"),
    'crowdsense.pmcb.similarity.x_merge_points__mutmut_14': (
        '- inverse = np.asarray(inverse).reshape(-1) / + inverse = np.asarray(inverse).reshape(None)',
        "np.unique's inverse is 1-D here (numpy >= 2.0.1): reshape(None) and reshape(-2) leave it as reshape(-1) does"),
    'crowdsense.pmcb.similarity.x_merge_points__mutmut_17': (
        '- inverse = np.asarray(inverse).reshape(-1) / + inverse = np.asarray(inverse).reshape(-2)',
        "np.unique's inverse is 1-D here (numpy >= 2.0.1): reshape(None) and reshape(-2) leave it as reshape(-1) does"),
    'crowdsense.pmcb.similarity.x_merge_points__mutmut_39': (
        '- counts = np.bincount(cell, minlength=c) / + counts = np.bincount(cell, )',
        "the cell numbers are np.unique's inverse: every number 0..c-1 occurs, so np.bincount(cell) already has length c without minlength"),
    'crowdsense.pmcb.similarity.x_merge_points__mutmut_47': (
        '- points = np.column_stack([np.bincount(cell, weights=z[:, j], minlength=c) for j in range(z.shape[1])]) / + points = np.column_stack([np.bincount(cell, weights=z[:, j], ) for j in range(z.shape[1])])',
        "the cell numbers are np.unique's inverse: every number 0..c-1 occurs, so np.bincount(cell) already has length c without minlength"),
    'crowdsense.pmcb.similarity.x_similarity_graph__mutmut_146': (
        '- if not sigma_value > 0: # pragma: no cover - distinct points have positive distances / + if not sigma_value >= 0: # pragma: no cover - distinct points have positive distances',
        'the branch is unreachable: distinct points have positive distances (pragma no cover)'),
    'crowdsense.pmcb.similarity.x_similarity_graph__mutmut_148': (
        '- sigma_value = 1.0 / + sigma_value = None',
        'the branch is unreachable: distinct points have positive distances (pragma no cover)'),
    'crowdsense.pmcb.similarity.x_similarity_graph__mutmut_149': (
        '- sigma_value = 1.0 / + sigma_value = 2.0',
        'the branch is unreachable: distinct points have positive distances (pragma no cover)'),
    'crowdsense.pmcb.similarity.x_similarity_graph__mutmut_17': (
        '- k = _check_int("n_neighbors", n_neighbors, 1) / + k = _check_int("XXn_neighborsXX", n_neighbors, 1)',
        "only the parameter's name in the error message is padded or re-cased; the tests match the message by the name it still contains, and the error type and branch are unchanged"),
    'crowdsense.pmcb.similarity.x_similarity_graph__mutmut_207': (
        '- DisconnectedSimilarityWarning, stacklevel=2) / + DisconnectedSimilarityWarning, )',
        'stacklevel only chooses which caller line a warning names; under mutmut a trampoline frame sits between caller and callee, so a test of that attribution cannot run under mutation testing'),
    'crowdsense.pmcb.similarity.x_similarity_graph__mutmut_212': (
        '- DisconnectedSimilarityWarning, stacklevel=2) / + DisconnectedSimilarityWarning, stacklevel=3)',
        'stacklevel only chooses which caller line a warning names; under mutmut a trampoline frame sits between caller and callee, so a test of that attribution cannot run under mutation testing'),
    'crowdsense.pmcb.similarity.x_similarity_graph__mutmut_27': (
        '- _check_choice("connect", connect, CONNECT_MODES) / + _check_choice("XXconnectXX", connect, CONNECT_MODES)',
        "only the parameter's name in the error message is padded or re-cased; the tests match the message by the name it still contains, and the error type and branch are unchanged"),
    'crowdsense.pmcb.similarity.x_similarity_graph__mutmut_59': (
        '- UserWarning, stacklevel=2) / + None, stacklevel=2)',
        "warnings.warn's category defaults to UserWarning, the one named"),
    'crowdsense.pmcb.similarity.x_similarity_graph__mutmut_62': (
        '- UserWarning, stacklevel=2) / + stacklevel=2)',
        "warnings.warn's category defaults to UserWarning, the one named"),
    'crowdsense.pmcb.similarity.x_similarity_graph__mutmut_63': (
        '- UserWarning, stacklevel=2) / + UserWarning, )',
        'stacklevel only chooses which caller line a warning names; under mutmut a trampoline frame sits between caller and callee, so a test of that attribution cannot run under mutation testing'),
    'crowdsense.pmcb.similarity.x_similarity_graph__mutmut_66': (
        '- UserWarning, stacklevel=2) / + UserWarning, stacklevel=3)',
        'stacklevel only chooses which caller line a warning names; under mutmut a trampoline frame sits between caller and callee, so a test of that attribution cannot run under mutation testing'),
    'crowdsense.pmcb.similarity.x_similarity_graph__mutmut_71': (
        '- neighbours = _Neighbours(points) / + neighbours = None',
        'without the shared neighbour search _knn builds its own k-d tree over the same points: the same neighbours within the same radius (ties past the fetched ones completed as before), only slower'),
    'crowdsense.pmcb.similarity.x_similarity_graph__mutmut_79': (
        '- k, first = _connected_k(points, k, neighbours) / + k, first = _connected_k(points, k, None)',
        'without the shared neighbour search _knn builds its own k-d tree over the same points: the same neighbours within the same radius (ties past the fetched ones completed as before), only slower'),
    'crowdsense.pmcb.similarity.x_similarity_graph__mutmut_86': (
        '- rows, cols, dists = _knn(points, k, neighbours) / + rows, cols, dists = _knn(points, k, None)',
        'without the shared neighbour search _knn builds its own k-d tree over the same points: the same neighbours within the same radius (ties past the fetched ones completed as before), only slower'),
    'crowdsense.pmcb.similarity.x_similarity_graph__mutmut_89': (
        '- rows, cols, dists = _knn(points, k, neighbours) / + rows, cols, dists = _knn(points, k, )',
        'without the shared neighbour search _knn builds its own k-d tree over the same points: the same neighbours within the same radius (ties past the fetched ones completed as before), only slower'),
    'crowdsense.pmcb.similarity.x_standardize__mutmut_11': (
        '- if _check_choice("scaling", scaling, SCALINGS) == "log": / + if _check_choice("XXscalingXX", scaling, SCALINGS) == "log":',
        "only the parameter's name in the error message is padded or re-cased; the tests match the message by the name it still contains, and the error type and branch are unchanged"),
    'crowdsense.pmcb.similarity.x_standardize__mutmut_27': (
        '- std[std == 0] = 1.0 / + std[std == 0] = 2.0',
        'a constant column is all zeros after centring, whatever it is divided by'),
    'crowdsense.pmcb.similarity.xǁ_Neighboursǁ__init____mutmut_10': (
        '- self.idx = np.empty((points.shape[0], 0), dtype=np.int64) / + self.idx = np.empty((points.shape[0], 0), dtype=None)',
        'the arrays a new search starts with only say that no neighbour was fetched yet: the first request (at least one column) finds them too narrow (0 columns of distances) and replaces both'),
    'crowdsense.pmcb.similarity.xǁ_Neighboursǁ__init____mutmut_12': (
        '- self.idx = np.empty((points.shape[0], 0), dtype=np.int64) / + self.idx = np.empty((points.shape[0], 0), )',
        'the arrays a new search starts with only say that no neighbour was fetched yet: the first request (at least one column) finds them too narrow (0 columns of distances) and replaces both'),
    'crowdsense.pmcb.similarity.xǁ_Neighboursǁ__init____mutmut_13': (
        '- self.idx = np.empty((points.shape[0], 0), dtype=np.int64) / + self.idx = np.empty((points.shape[1], 0), dtype=np.int64)',
        'the arrays a new search starts with only say that no neighbour was fetched yet: the first request (at least one column) finds them too narrow (0 columns of distances) and replaces both'),
    'crowdsense.pmcb.similarity.xǁ_Neighboursǁ__init____mutmut_14': (
        '- self.idx = np.empty((points.shape[0], 0), dtype=np.int64) / + self.idx = np.empty((points.shape[0], 1), dtype=np.int64)',
        'the arrays a new search starts with only say that no neighbour was fetched yet: the first request (at least one column) finds them too narrow (0 columns of distances) and replaces both'),
    'crowdsense.pmcb.similarity.xǁ_Neighboursǁ__init____mutmut_6': (
        '- self.dist = np.empty((points.shape[0], 0)) / + self.dist = np.empty((points.shape[1], 0))',
        'the arrays a new search starts with only say that no neighbour was fetched yet: the first request (at least one column) finds them too narrow (0 columns of distances) and replaces both'),
    'crowdsense.pmcb.similarity.xǁ_Neighboursǁ__init____mutmut_8': (
        '- self.idx = np.empty((points.shape[0], 0), dtype=np.int64) / + self.idx = None',
        'the arrays a new search starts with only say that no neighbour was fetched yet: the first request (at least one column) finds them too narrow (0 columns of distances) and replaces both'),
    'crowdsense.pmcb.similarity.xǁ_Neighboursǁnearest__mutmut_11': (
        '- if self.dist.shape[1] < columns: / + if self.dist.shape[1] <= columns:',
        'a query as wide as the one held is made again: the same neighbours, only slower'),
    'crowdsense.pmcb.similarity.xǁ_Neighboursǁnearest__mutmut_15': (
        '- dist, idx = self.tree.query(self.points, k=columns + 1, workers=-1) / + dist, idx = self.tree.query(self.points, k=columns + 1, workers=None)',
        'the number of threads of the tree query: the same neighbours'),
    'crowdsense.pmcb.similarity.xǁ_Neighboursǁnearest__mutmut_18': (
        '- dist, idx = self.tree.query(self.points, k=columns + 1, workers=-1) / + dist, idx = self.tree.query(self.points, k=columns + 1, )',
        'the number of threads of the tree query: the same neighbours'),
    'crowdsense.pmcb.similarity.xǁ_Neighboursǁnearest__mutmut_20': (
        '- dist, idx = self.tree.query(self.points, k=columns + 1, workers=-1) / + dist, idx = self.tree.query(self.points, k=columns + 2, workers=-1)',
        'one more neighbour fetched, then cut off: the first columns after the point itself are the same (a missing neighbour sorts last, at distance inf)'),
    'crowdsense.pmcb.similarity.xǁ_Neighboursǁnearest__mutmut_21': (
        '- dist, idx = self.tree.query(self.points, k=columns + 1, workers=-1) / + dist, idx = self.tree.query(self.points, k=columns + 1, workers=+1)',
        'the number of threads of the tree query: the same neighbours'),
    'crowdsense.pmcb.similarity.xǁ_Neighboursǁnearest__mutmut_34': (
        '- keep_order = np.argsort(own, axis=1, kind="stable") / + keep_order = np.argsort(own, kind="stable")',
        "np.argsort's axis defaults to -1, the rows' axis (1) of this 2-D array"),
    'crowdsense.pmcb.similarity.xǁ_Neighboursǁnearest__mutmut_38': (
        '- keep_order = np.argsort(own, axis=1, kind="stable") / + keep_order = np.argsort(own, axis=1, kind="STABLE")',
        "numpy reads only the first letter of the sort kind, case-insensitively: 'STABLE' selects the same stable sort"),
    'crowdsense.pmcb.similarity.xǁ_Neighboursǁnearest__mutmut_45': (
        '- self.dist = np.take_along_axis(dist, keep_order, axis=1)[:, :columns] / + self.dist = np.take_along_axis(dist, keep_order, )[:, :columns]',
        "np.take_along_axis's axis defaults to -1 (numpy 2.4), the rows' axis (1) of this 2-D array"),
    'crowdsense.pmcb.similarity.xǁ_Neighboursǁnearest__mutmut_53': (
        '- self.idx = np.take_along_axis(idx, keep_order, axis=1)[:, :columns] / + self.idx = np.take_along_axis(idx, keep_order, )[:, :columns]',
        "np.take_along_axis's axis defaults to -1 (numpy 2.4), the rows' axis (1) of this 2-D array"),
    'crowdsense.pmcb.similarity.xǁ_Neighboursǁnearest__mutmut_8': (
        '- columns = min(columns, p - 1) / + columns = min(columns, p + 1)',
        '_knn asks for fetch - 1 <= P - 1 columns: the cap at P - 1 or P + 1 never binds'),
    'crowdsense.pmcb.spectral.x_ratiocut_embedding__mutmut_100': (
        '- ncv=min(p, max(2 * k + 1, 20)), maxiter=p * 10) / + ncv=min(p, max(2 * k + 2, 20)), maxiter=p * 10)',
        'an eigensolver setting (Krylov subspace size, iteration cap, start vector, shift, preconditioner, tolerance, or where the dense solver gives way to the iterative ones): the solvers converge to the same eigenpairs, which the tests check against the generalized problem L h = lambda M h'),
    'crowdsense.pmcb.spectral.x_ratiocut_embedding__mutmut_101': (
        '- ncv=min(p, max(2 * k + 1, 20)), maxiter=p * 10) / + ncv=min(p, max(2 * k + 1, 21)), maxiter=p * 10)',
        'an eigensolver setting (Krylov subspace size, iteration cap, start vector, shift, preconditioner, tolerance, or where the dense solver gives way to the iterative ones): the solvers converge to the same eigenpairs, which the tests check against the generalized problem L h = lambda M h'),
    'crowdsense.pmcb.spectral.x_ratiocut_embedding__mutmut_102': (
        '- ncv=min(p, max(2 * k + 1, 20)), maxiter=p * 10) / + ncv=min(p, max(2 * k + 1, 20)), maxiter=p / 10)',
        'an eigensolver setting (Krylov subspace size, iteration cap, start vector, shift, preconditioner, tolerance, or where the dense solver gives way to the iterative ones): the solvers converge to the same eigenpairs, which the tests check against the generalized problem L h = lambda M h'),
    'crowdsense.pmcb.spectral.x_ratiocut_embedding__mutmut_103': (
        '- ncv=min(p, max(2 * k + 1, 20)), maxiter=p * 10) / + ncv=min(p, max(2 * k + 1, 20)), maxiter=p * 11)',
        'an eigensolver setting (Krylov subspace size, iteration cap, start vector, shift, preconditioner, tolerance, or where the dense solver gives way to the iterative ones): the solvers converge to the same eigenpairs, which the tests check against the generalized problem L h = lambda M h'),
    'crowdsense.pmcb.spectral.x_ratiocut_embedding__mutmut_109': (
        '- precond = sp.diags_array(1.0 / np.maximum(ls.diagonal(), 1e-12 * scale)) / + precond = None',
        'an eigensolver setting (Krylov subspace size, iteration cap, start vector, shift, preconditioner, tolerance, or where the dense solver gives way to the iterative ones): the solvers converge to the same eigenpairs, which the tests check against the generalized problem L h = lambda M h'),
    'crowdsense.pmcb.spectral.x_ratiocut_embedding__mutmut_111': (
        '- precond = sp.diags_array(1.0 / np.maximum(ls.diagonal(), 1e-12 * scale)) / + precond = sp.diags_array(1.0 * np.maximum(ls.diagonal(), 1e-12 * scale))',
        'an eigensolver setting (Krylov subspace size, iteration cap, start vector, shift, preconditioner, tolerance, or where the dense solver gives way to the iterative ones): the solvers converge to the same eigenpairs, which the tests check against the generalized problem L h = lambda M h'),
    'crowdsense.pmcb.spectral.x_ratiocut_embedding__mutmut_112': (
        '- precond = sp.diags_array(1.0 / np.maximum(ls.diagonal(), 1e-12 * scale)) / + precond = sp.diags_array(2.0 / np.maximum(ls.diagonal(), 1e-12 * scale))',
        'an eigensolver setting (Krylov subspace size, iteration cap, start vector, shift, preconditioner, tolerance, or where the dense solver gives way to the iterative ones): the solvers converge to the same eigenpairs, which the tests check against the generalized problem L h = lambda M h'),
    'crowdsense.pmcb.spectral.x_ratiocut_embedding__mutmut_117': (
        '- precond = sp.diags_array(1.0 / np.maximum(ls.diagonal(), 1e-12 * scale)) / + precond = sp.diags_array(1.0 / np.maximum(ls.diagonal(), 1e-12 / scale))',
        'an eigensolver setting (Krylov subspace size, iteration cap, start vector, shift, preconditioner, tolerance, or where the dense solver gives way to the iterative ones): the solvers converge to the same eigenpairs, which the tests check against the generalized problem L h = lambda M h'),
    'crowdsense.pmcb.spectral.x_ratiocut_embedding__mutmut_118': (
        '- precond = sp.diags_array(1.0 / np.maximum(ls.diagonal(), 1e-12 * scale)) / + precond = sp.diags_array(1.0 / np.maximum(ls.diagonal(), 1.000000000001 * scale))',
        'an eigensolver setting (Krylov subspace size, iteration cap, start vector, shift, preconditioner, tolerance, or where the dense solver gives way to the iterative ones): the solvers converge to the same eigenpairs, which the tests check against the generalized problem L h = lambda M h'),
    'crowdsense.pmcb.spectral.x_ratiocut_embedding__mutmut_122': (
        '- vals, vecs = spla.lobpcg(ls, x0, M=precond, largest=False, tol=1e-8, maxiter=2000) / + vals, vecs = spla.lobpcg(ls, x0, M=None, largest=False, tol=1e-8, maxiter=2000)',
        'an eigensolver setting (Krylov subspace size, iteration cap, start vector, shift, preconditioner, tolerance, or where the dense solver gives way to the iterative ones): the solvers converge to the same eigenpairs, which the tests check against the generalized problem L h = lambda M h'),
    'crowdsense.pmcb.spectral.x_ratiocut_embedding__mutmut_123': (
        '- vals, vecs = spla.lobpcg(ls, x0, M=precond, largest=False, tol=1e-8, maxiter=2000) / + vals, vecs = spla.lobpcg(ls, x0, M=precond, largest=None, tol=1e-8, maxiter=2000)',
        'an eigensolver setting (Krylov subspace size, iteration cap, start vector, shift, preconditioner, tolerance, or where the dense solver gives way to the iterative ones): the solvers converge to the same eigenpairs, which the tests check against the generalized problem L h = lambda M h'),
    'crowdsense.pmcb.spectral.x_ratiocut_embedding__mutmut_124': (
        '- vals, vecs = spla.lobpcg(ls, x0, M=precond, largest=False, tol=1e-8, maxiter=2000) / + vals, vecs = spla.lobpcg(ls, x0, M=precond, largest=False, tol=None, maxiter=2000)',
        'an eigensolver setting (Krylov subspace size, iteration cap, start vector, shift, preconditioner, tolerance, or where the dense solver gives way to the iterative ones): the solvers converge to the same eigenpairs, which the tests check against the generalized problem L h = lambda M h'),
    'crowdsense.pmcb.spectral.x_ratiocut_embedding__mutmut_125': (
        '- vals, vecs = spla.lobpcg(ls, x0, M=precond, largest=False, tol=1e-8, maxiter=2000) / + vals, vecs = spla.lobpcg(ls, x0, M=precond, largest=False, tol=1e-8, maxiter=None)',
        'an eigensolver setting (Krylov subspace size, iteration cap, start vector, shift, preconditioner, tolerance, or where the dense solver gives way to the iterative ones): the solvers converge to the same eigenpairs, which the tests check against the generalized problem L h = lambda M h'),
    'crowdsense.pmcb.spectral.x_ratiocut_embedding__mutmut_128': (
        '- vals, vecs = spla.lobpcg(ls, x0, M=precond, largest=False, tol=1e-8, maxiter=2000) / + vals, vecs = spla.lobpcg(ls, x0, largest=False, tol=1e-8, maxiter=2000)',
        'an eigensolver setting (Krylov subspace size, iteration cap, start vector, shift, preconditioner, tolerance, or where the dense solver gives way to the iterative ones): the solvers converge to the same eigenpairs, which the tests check against the generalized problem L h = lambda M h'),
    'crowdsense.pmcb.spectral.x_ratiocut_embedding__mutmut_130': (
        '- vals, vecs = spla.lobpcg(ls, x0, M=precond, largest=False, tol=1e-8, maxiter=2000) / + vals, vecs = spla.lobpcg(ls, x0, M=precond, largest=False, maxiter=2000)',
        'an eigensolver setting (Krylov subspace size, iteration cap, start vector, shift, preconditioner, tolerance, or where the dense solver gives way to the iterative ones): the solvers converge to the same eigenpairs, which the tests check against the generalized problem L h = lambda M h'),
    'crowdsense.pmcb.spectral.x_ratiocut_embedding__mutmut_131': (
        '- vals, vecs = spla.lobpcg(ls, x0, M=precond, largest=False, tol=1e-8, maxiter=2000) / + vals, vecs = spla.lobpcg(ls, x0, M=precond, largest=False, tol=1e-8, )',
        'an eigensolver setting (Krylov subspace size, iteration cap, start vector, shift, preconditioner, tolerance, or where the dense solver gives way to the iterative ones): the solvers converge to the same eigenpairs, which the tests check against the generalized problem L h = lambda M h'),
    'crowdsense.pmcb.spectral.x_ratiocut_embedding__mutmut_134': (
        '- vals, vecs = spla.lobpcg(ls, x0, M=precond, largest=False, tol=1e-8, maxiter=2000) / + vals, vecs = spla.lobpcg(ls, x0, M=precond, largest=False, tol=1e-8, maxiter=2001)',
        'an eigensolver setting (Krylov subspace size, iteration cap, start vector, shift, preconditioner, tolerance, or where the dense solver gives way to the iterative ones): the solvers converge to the same eigenpairs, which the tests check against the generalized problem L h = lambda M h'),
    'crowdsense.pmcb.spectral.x_ratiocut_embedding__mutmut_22': (
        '- mult = sim.multiplicity.astype(np.float64) / + mult = sim.multiplicity.astype(None)',
        'astype(None) converts to float64, the dtype named'),
    'crowdsense.pmcb.spectral.x_ratiocut_embedding__mutmut_37': (
        '- rng = np.random.default_rng(random_state) / + rng = np.random.default_rng(None)',
        'an eigensolver setting (Krylov subspace size, iteration cap, start vector, shift, preconditioner, tolerance, or where the dense solver gives way to the iterative ones): the solvers converge to the same eigenpairs, which the tests check against the generalized problem L h = lambda M h'),
    'crowdsense.pmcb.spectral.x_ratiocut_embedding__mutmut_39': (
        '- if p <= DENSE_MAX_POINTS or k >= p - 1: / + if p < DENSE_MAX_POINTS or k >= p - 1:',
        'an eigensolver setting (Krylov subspace size, iteration cap, start vector, shift, preconditioner, tolerance, or where the dense solver gives way to the iterative ones): the solvers converge to the same eigenpairs, which the tests check against the generalized problem L h = lambda M h'),
    'crowdsense.pmcb.spectral.x_ratiocut_embedding__mutmut_40': (
        '- if p <= DENSE_MAX_POINTS or k >= p - 1: / + if p <= DENSE_MAX_POINTS or k > p - 1:',
        'an eigensolver setting (Krylov subspace size, iteration cap, start vector, shift, preconditioner, tolerance, or where the dense solver gives way to the iterative ones): the solvers converge to the same eigenpairs, which the tests check against the generalized problem L h = lambda M h'),
    'crowdsense.pmcb.spectral.x_ratiocut_embedding__mutmut_41': (
        '- if p <= DENSE_MAX_POINTS or k >= p - 1: / + if p <= DENSE_MAX_POINTS or k >= p + 1:',
        'an eigensolver setting (Krylov subspace size, iteration cap, start vector, shift, preconditioner, tolerance, or where the dense solver gives way to the iterative ones): the solvers converge to the same eigenpairs, which the tests check against the generalized problem L h = lambda M h'),
    'crowdsense.pmcb.spectral.x_ratiocut_embedding__mutmut_42': (
        '- if p <= DENSE_MAX_POINTS or k >= p - 1: / + if p <= DENSE_MAX_POINTS or k >= p - 2:',
        'an eigensolver setting (Krylov subspace size, iteration cap, start vector, shift, preconditioner, tolerance, or where the dense solver gives way to the iterative ones): the solvers converge to the same eigenpairs, which the tests check against the generalized problem L h = lambda M h'),
    'crowdsense.pmcb.spectral.x_ratiocut_embedding__mutmut_55': (
        '- scale = float(np.abs(ls.diagonal()).max()) or 1.0 / + scale = float(np.abs(ls.diagonal()).max()) and 1.0',
        'an eigensolver setting (Krylov subspace size, iteration cap, start vector, shift, preconditioner, tolerance, or where the dense solver gives way to the iterative ones): the solvers converge to the same eigenpairs, which the tests check against the generalized problem L h = lambda M h'),
    'crowdsense.pmcb.spectral.x_ratiocut_embedding__mutmut_58': (
        '- scale = float(np.abs(ls.diagonal()).max()) or 1.0 / + scale = float(np.abs(ls.diagonal()).max()) or 2.0',
        'an eigensolver setting (Krylov subspace size, iteration cap, start vector, shift, preconditioner, tolerance, or where the dense solver gives way to the iterative ones): the solvers converge to the same eigenpairs, which the tests check against the generalized problem L h = lambda M h'),
    'crowdsense.pmcb.spectral.x_ratiocut_embedding__mutmut_59': (
        '- v0 = rng.uniform(0.5, 1.5, size=p) / + v0 = None',
        'an eigensolver setting (Krylov subspace size, iteration cap, start vector, shift, preconditioner, tolerance, or where the dense solver gives way to the iterative ones): the solvers converge to the same eigenpairs, which the tests check against the generalized problem L h = lambda M h'),
    'crowdsense.pmcb.spectral.x_ratiocut_embedding__mutmut_64': (
        '- v0 = rng.uniform(0.5, 1.5, size=p) / + v0 = rng.uniform(0.5, size=p)',
        'an eigensolver setting (Krylov subspace size, iteration cap, start vector, shift, preconditioner, tolerance, or where the dense solver gives way to the iterative ones): the solvers converge to the same eigenpairs, which the tests check against the generalized problem L h = lambda M h'),
    'crowdsense.pmcb.spectral.x_ratiocut_embedding__mutmut_66': (
        '- v0 = rng.uniform(0.5, 1.5, size=p) / + v0 = rng.uniform(1.5, 1.5, size=p)',
        'an eigensolver setting (Krylov subspace size, iteration cap, start vector, shift, preconditioner, tolerance, or where the dense solver gives way to the iterative ones): the solvers converge to the same eigenpairs, which the tests check against the generalized problem L h = lambda M h'),
    'crowdsense.pmcb.spectral.x_ratiocut_embedding__mutmut_67': (
        '- v0 = rng.uniform(0.5, 1.5, size=p) / + v0 = rng.uniform(0.5, 2.5, size=p)',
        'an eigensolver setting (Krylov subspace size, iteration cap, start vector, shift, preconditioner, tolerance, or where the dense solver gives way to the iterative ones): the solvers converge to the same eigenpairs, which the tests check against the generalized problem L h = lambda M h'),
    'crowdsense.pmcb.spectral.x_ratiocut_embedding__mutmut_73': (
        '- vals, vecs = spla.eigsh(sp.csc_array(ls), k=k, sigma=-1e-6 * scale, which="LM", v0=v0, / + vals, vecs = spla.eigsh(sp.csc_array(ls), k=k, sigma=-1e-6 * scale, which="LM", v0=None,',
        'an eigensolver setting (Krylov subspace size, iteration cap, start vector, shift, preconditioner, tolerance, or where the dense solver gives way to the iterative ones): the solvers converge to the same eigenpairs, which the tests check against the generalized problem L h = lambda M h'),
    'crowdsense.pmcb.spectral.x_ratiocut_embedding__mutmut_74': (
        '- ncv=min(p, max(2 * k + 1, 20)), maxiter=p * 10) / + ncv=None, maxiter=p * 10)',
        'an eigensolver setting (Krylov subspace size, iteration cap, start vector, shift, preconditioner, tolerance, or where the dense solver gives way to the iterative ones): the solvers converge to the same eigenpairs, which the tests check against the generalized problem L h = lambda M h'),
    'crowdsense.pmcb.spectral.x_ratiocut_embedding__mutmut_75': (
        '- ncv=min(p, max(2 * k + 1, 20)), maxiter=p * 10) / + ncv=min(p, max(2 * k + 1, 20)), maxiter=None)',
        'an eigensolver setting (Krylov subspace size, iteration cap, start vector, shift, preconditioner, tolerance, or where the dense solver gives way to the iterative ones): the solvers converge to the same eigenpairs, which the tests check against the generalized problem L h = lambda M h'),
    'crowdsense.pmcb.spectral.x_ratiocut_embedding__mutmut_79': (
        '- vals, vecs = spla.eigsh(sp.csc_array(ls), k=k, sigma=-1e-6 * scale, which="LM", v0=v0, / + vals, vecs = spla.eigsh(sp.csc_array(ls), k=k, sigma=-1e-6 * scale, v0=v0,',
        'an eigensolver setting (Krylov subspace size, iteration cap, start vector, shift, preconditioner, tolerance, or where the dense solver gives way to the iterative ones): the solvers converge to the same eigenpairs, which the tests check against the generalized problem L h = lambda M h'),
    'crowdsense.pmcb.spectral.x_ratiocut_embedding__mutmut_80': (
        '- vals, vecs = spla.eigsh(sp.csc_array(ls), k=k, sigma=-1e-6 * scale, which="LM", v0=v0, / - ncv=min(p, max(2 * k + 1, 20)), maxiter=p * 10) / + vals, vecs = spla.eigsh(sp.csc_array(ls), k=k, sigma=-1e-6 * scale, which="LM", ncv=min(p, max(2 * k + 1, 20)), maxiter=p * 10)',
        'an eigensolver setting (Krylov subspace size, iteration cap, start vector, shift, preconditioner, tolerance, or where the dense solver gives way to the iterative ones): the solvers converge to the same eigenpairs, which the tests check against the generalized problem L h = lambda M h'),
    'crowdsense.pmcb.spectral.x_ratiocut_embedding__mutmut_81': (
        '- ncv=min(p, max(2 * k + 1, 20)), maxiter=p * 10) / + maxiter=p * 10)',
        'an eigensolver setting (Krylov subspace size, iteration cap, start vector, shift, preconditioner, tolerance, or where the dense solver gives way to the iterative ones): the solvers converge to the same eigenpairs, which the tests check against the generalized problem L h = lambda M h'),
    'crowdsense.pmcb.spectral.x_ratiocut_embedding__mutmut_82': (
        '- ncv=min(p, max(2 * k + 1, 20)), maxiter=p * 10) / + ncv=min(p, max(2 * k + 1, 20)), )',
        'an eigensolver setting (Krylov subspace size, iteration cap, start vector, shift, preconditioner, tolerance, or where the dense solver gives way to the iterative ones): the solvers converge to the same eigenpairs, which the tests check against the generalized problem L h = lambda M h'),
    'crowdsense.pmcb.spectral.x_ratiocut_embedding__mutmut_84': (
        '- vals, vecs = spla.eigsh(sp.csc_array(ls), k=k, sigma=-1e-6 * scale, which="LM", v0=v0, / + vals, vecs = spla.eigsh(sp.csc_array(ls), k=k, sigma=-1e-6 / scale, which="LM", v0=v0,',
        'an eigensolver setting (Krylov subspace size, iteration cap, start vector, shift, preconditioner, tolerance, or where the dense solver gives way to the iterative ones): the solvers converge to the same eigenpairs, which the tests check against the generalized problem L h = lambda M h'),
    'crowdsense.pmcb.spectral.x_ratiocut_embedding__mutmut_85': (
        '- vals, vecs = spla.eigsh(sp.csc_array(ls), k=k, sigma=-1e-6 * scale, which="LM", v0=v0, / + vals, vecs = spla.eigsh(sp.csc_array(ls), k=k, sigma=+1e-6 * scale, which="LM", v0=v0,',
        'an eigensolver setting (Krylov subspace size, iteration cap, start vector, shift, preconditioner, tolerance, or where the dense solver gives way to the iterative ones): the solvers converge to the same eigenpairs, which the tests check against the generalized problem L h = lambda M h'),
    'crowdsense.pmcb.spectral.x_ratiocut_embedding__mutmut_86': (
        '- vals, vecs = spla.eigsh(sp.csc_array(ls), k=k, sigma=-1e-6 * scale, which="LM", v0=v0, / + vals, vecs = spla.eigsh(sp.csc_array(ls), k=k, sigma=-1.000001 * scale, which="LM", v0=v0,',
        'an eigensolver setting (Krylov subspace size, iteration cap, start vector, shift, preconditioner, tolerance, or where the dense solver gives way to the iterative ones): the solvers converge to the same eigenpairs, which the tests check against the generalized problem L h = lambda M h'),
    'crowdsense.pmcb.spectral.x_ratiocut_embedding__mutmut_97': (
        '- ncv=min(p, max(2 * k + 1, 20)), maxiter=p * 10) / + ncv=min(p, max(2 * k - 1, 20)), maxiter=p * 10)',
        'an eigensolver setting (Krylov subspace size, iteration cap, start vector, shift, preconditioner, tolerance, or where the dense solver gives way to the iterative ones): the solvers converge to the same eigenpairs, which the tests check against the generalized problem L h = lambda M h'),
    'crowdsense.pmcb.spectral.x_ratiocut_embedding__mutmut_98': (
        '- ncv=min(p, max(2 * k + 1, 20)), maxiter=p * 10) / + ncv=min(p, max(2 / k + 1, 20)), maxiter=p * 10)',
        'an eigensolver setting (Krylov subspace size, iteration cap, start vector, shift, preconditioner, tolerance, or where the dense solver gives way to the iterative ones): the solvers converge to the same eigenpairs, which the tests check against the generalized problem L h = lambda M h'),
    'crowdsense.pmcb.spectral.x_ratiocut_embedding__mutmut_99': (
        '- ncv=min(p, max(2 * k + 1, 20)), maxiter=p * 10) / + ncv=min(p, max(3 * k + 1, 20)), maxiter=p * 10)',
        'an eigensolver setting (Krylov subspace size, iteration cap, start vector, shift, preconditioner, tolerance, or where the dense solver gives way to the iterative ones): the solvers converge to the same eigenpairs, which the tests check against the generalized problem L h = lambda M h'),
    'crowdsense.pmcb.spectral.x_spectral_partition__mutmut_111': (
        '- point_labels = ratiocut_levels(h, sim.weights, t, sample_weight=sim.multiplicity.astype(np.float64), / + point_labels = ratiocut_levels(h, sim.weights, t, sample_weight=sim.multiplicity.astype(None),',
        'astype(None) converts to float64, the dtype named'),
    'crowdsense.pmcb.spectral.x_spectral_partition__mutmut_4': (
        '- random_state: int | np.random.Generator | None = None, n_init: int = 10, / + random_state: int | np.random.Generator | None = None, n_init: int = 11,',
        'n_init is the number of k-means restarts, a speed/quality setting: the best inertia of the restarts is kept, and no caller or document depends on the default being 10'),
    'crowdsense.pmcb.spectral.x_spectral_partition__mutmut_69': (
        '- seeds = np.random.default_rng(random_state).integers(0, 2**31 - 1, size=2) / + seeds = np.random.default_rng(random_state).integers(2**31 - 1, size=2)',
        'which values are derived from random_state is not a contract: the result stays reproducible for a given seed (tested), only the seeds drawn differ'),
    'crowdsense.pmcb.spectral.x_spectral_partition__mutmut_73': (
        '- seeds = np.random.default_rng(random_state).integers(0, 2**31 - 1, size=2) / + seeds = np.random.default_rng(random_state).integers(1, 2**31 - 1, size=2)',
        'which values are derived from random_state is not a contract: the result stays reproducible for a given seed (tested), only the seeds drawn differ'),
    'crowdsense.pmcb.spectral.x_spectral_partition__mutmut_74': (
        '- seeds = np.random.default_rng(random_state).integers(0, 2**31 - 1, size=2) / + seeds = np.random.default_rng(random_state).integers(0, 2**31 + 1, size=2)',
        'which values are derived from random_state is not a contract: the result stays reproducible for a given seed (tested), only the seeds drawn differ'),
    'crowdsense.pmcb.spectral.x_spectral_partition__mutmut_75': (
        '- seeds = np.random.default_rng(random_state).integers(0, 2**31 - 1, size=2) / + seeds = np.random.default_rng(random_state).integers(0, 2 * 31 - 1, size=2)',
        'which values are derived from random_state is not a contract: the result stays reproducible for a given seed (tested), only the seeds drawn differ'),
    'crowdsense.pmcb.spectral.x_spectral_partition__mutmut_76': (
        '- seeds = np.random.default_rng(random_state).integers(0, 2**31 - 1, size=2) / + seeds = np.random.default_rng(random_state).integers(0, 3**31 - 1, size=2)',
        'which values are derived from random_state is not a contract: the result stays reproducible for a given seed (tested), only the seeds drawn differ'),
    'crowdsense.pmcb.spectral.x_spectral_partition__mutmut_77': (
        '- seeds = np.random.default_rng(random_state).integers(0, 2**31 - 1, size=2) / + seeds = np.random.default_rng(random_state).integers(0, 2**32 - 1, size=2)',
        'which values are derived from random_state is not a contract: the result stays reproducible for a given seed (tested), only the seeds drawn differ'),
    'crowdsense.pmcb.spectral.x_spectral_partition__mutmut_78': (
        '- seeds = np.random.default_rng(random_state).integers(0, 2**31 - 1, size=2) / + seeds = np.random.default_rng(random_state).integers(0, 2**31 - 2, size=2)',
        'which values are derived from random_state is not a contract: the result stays reproducible for a given seed (tested), only the seeds drawn differ'),
    'crowdsense.pmcb.spectral.x_spectral_partition__mutmut_79': (
        '- seeds = np.random.default_rng(random_state).integers(0, 2**31 - 1, size=2) / + seeds = np.random.default_rng(random_state).integers(0, 2**31 - 1, size=3)',
        'which values are derived from random_state is not a contract: the result stays reproducible for a given seed (tested), only the seeds drawn differ'),
    'crowdsense.pmcb.spectral.x_spectral_partition__mutmut_88': (
        '- vals, h, solver = ratiocut_embedding(sim, n_clusters=t, random_state=int(seeds[0])) / + vals, h, solver = ratiocut_embedding(sim, n_clusters=t, random_state=int(seeds[1]))',
        'which values are derived from random_state is not a contract: the result stays reproducible for a given seed (tested), only the seeds drawn differ'),
}

MESSAGE_WORDING = ("only the wording of a human-readable message changes (letter case or 'XX' around a "
                   "multi-word string literal); the error type, the values it carries and every branch "
                   "are unchanged")
_LITERAL = re.compile(r"""[rbfuRBFU]{0,2}("(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')""")
_FIELD = re.compile(r"\{[^}]*\}")


def message_wording_only(diff: str) -> bool:
    """Whether a mutant only re-cases or pads with 'XX' one multi-word string literal.

    ``diff`` is a :func:`short_diff` of one changed line (``-old / +new``). The rest of the
    line must be identical, the literal must hold a space (a message, not a key or a flag),
    and an f-string's replacement fields must be untouched (``{entry['state']}`` re-cased
    would read another key: that is a behaviour change).
    """
    parts = diff.split(" / ")
    if len(parts) != 2 or not (parts[0].startswith("-") and parts[1].startswith("+")):
        return False
    old, new = parts[0][1:], parts[1][1:]
    old_lits, new_lits = _LITERAL.findall(old), _LITERAL.findall(new)
    if len(old_lits) != len(new_lits) or _LITERAL.sub("''", old) != _LITERAL.sub("''", new):
        return False
    changed = [(a, b) for a, b in zip(old_lits, new_lits) if a != b]
    if len(changed) != 1:
        return False
    a, b = changed[0][0][1:-1], changed[0][1][1:-1]
    if " " not in a.strip() or _FIELD.findall(a) != _FIELD.findall(b):
        return False
    return b in (f"XX{a}XX", a.upper(), a.lower())


MESSAGE_DROPPED = ("only the human-readable message of a raised error is dropped (None in place of a "
                   "multi-word string literal); the error type, the values it carries and every branch "
                   "are unchanged")


def message_dropped_only(diff: str) -> bool:
    """Whether a mutant only replaces the multi-word message literal of a ``raise`` by None.

    ``diff`` is a :func:`short_diff` of one changed line: ``- raise E("...") / + raise E(None)``
    (also ``from None`` after it, or an f-string); the rest of the line must be identical.
    """
    parts = diff.split(" / ")
    if len(parts) != 2 or not (parts[0].startswith("-") and parts[1].startswith("+")):
        return False
    old, new = parts[0][1:].strip(), parts[1][1:].strip()
    if not (old.startswith("raise ") and new.startswith("raise ")):
        return False
    for literal in _LITERAL.finditer(old):
        text = literal.group(1)[1:-1]
        if " " in text.strip() and old[:literal.start()] + "None" + old[literal.end():] == new:
            return True
    return False


# ----------------------------------------------------------------------------- one group


def group_dir(work_dir: Path, group: Group) -> Path:
    return work_dir / group.name


def prepare(gdir: Path, group: Group, timeout_multiplier: float) -> None:
    """A fresh scratch copy laid out as ``src/crowdsense`` (mutmut puts ``mutants/src`` first
    on ``sys.path``, so the tests import the mutated copy) with mutmut's configuration."""
    if gdir.exists():
        shutil.rmtree(gdir)
    (gdir / "src").mkdir(parents=True)
    shutil.copytree(ROOT / "offchain" / PACKAGE, gdir / "src" / PACKAGE,
                    ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(ROOT / "tests", gdir / "tests", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy2(ROOT / "pyproject.toml", gdir / "pyproject.toml")
    lines = [
        "[mutmut]",
        "source_paths = src",
        "only_mutate =",
        *(f"    src/{PACKAGE}/{m.path}" for m in group.modules),
        # brownie's pytest plugin would attach to port 8545; these tests need none of it
        "pytest_add_cli_args =",
        "    -p", "    no:pytest-brownie", "    -p", "    no:cacheprovider",
        "pytest_add_cli_args_test_selection =",
        *(f"    {t}" for t in group.tests),
        f"timeout_multiplier = {timeout_multiplier}",
        "timeout_constant = 2.0",
        "",
    ]
    (gdir / "setup.cfg").write_text("\n".join(lines))


def refresh_tests(gdir: Path) -> None:
    """Copy the checkout's tests into the scratch copy again (mutmut copies them on to
    ``mutants/tests`` at the start of its run)."""
    shutil.rmtree(gdir / "tests")
    shutil.copytree(ROOT / "tests", gdir / "tests", ignore=shutil.ignore_patterns("__pycache__"))


def tool_env(gdir: Path, *, mutated_path: bool = True) -> dict[str, str]:
    """The environment of the tool and of the tests run by hand against one mutant.

    ``PYTHONPATH`` names the mutated copy only once it exists: an entry for a folder that does
    not exist yet is cached by the import system as "nothing here" for the whole process (and
    mutmut puts ``mutants/src`` first on ``sys.path`` itself).
    """
    env = dict(os.environ)
    # the tests that need a node start Anvil from the npm package, as `make` puts it on PATH
    env["PATH"] = f"{ROOT / 'node_modules' / '.bin'}{os.pathsep}{env.get('PATH', '')}"
    env.pop("MUTANT_UNDER_TEST", None)
    env.pop("PYTHONPATH", None)
    if mutated_path:
        env["PYTHONPATH"] = str(gdir / "mutants" / "src")
    return env


def run_mutmut(gdir: Path, names: list[str]) -> None:
    """``mutmut run`` over ``names`` (globs) with one worker; its progress goes to a log file."""
    cmd = [sys.executable, "-m", "mutmut", "run", "--max-children", "1", *names]
    with open(gdir / "mutmut.log", "a") as out:
        out.write(f"\n$ {' '.join(cmd)}\n")
        out.flush()
        proc = subprocess.run(cmd, cwd=gdir, stdout=out, stderr=subprocess.STDOUT,
                              env=tool_env(gdir, mutated_path=False))
    if proc.returncode != 0:
        tail = (gdir / "mutmut.log").read_text(errors="replace")[-2000:]
        raise RuntimeError(f"mutmut run failed in {gdir} (exit {proc.returncode}):\n{tail}")


def source_revision() -> dict[str, Any]:
    """The commit the scratch copies were taken from, and whether the package or the tests had
    uncommitted changes then (the numbers describe that source)."""
    def git(*args: str) -> str:
        return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True).stdout.strip()

    return {"commit": git("rev-parse", "HEAD") or None,
            "uncommitted_changes": bool(git("status", "--porcelain", "--", "offchain", "tests"))}


def imported_from(gdir: Path) -> str:
    """Where the tests' ``import crowdsense`` resolves with the run's ``sys.path`` (must be the
    mutated copy: mutmut would otherwise find no test reaching a mutated function)."""
    out = subprocess.run([sys.executable, "-c", f"import {PACKAGE}; print({PACKAGE}.__file__)"],
                         cwd=gdir / "mutants", env=tool_env(gdir), capture_output=True, text=True,
                         check=True)
    return out.stdout.strip()


def exit_codes(gdir: Path, group: Group) -> dict[str, dict[str, int | None]]:
    """Module path -> mutant name -> mutmut's exit code, for the mutants in the group's scope."""
    result: dict[str, dict[str, int | None]] = {}
    for module in group.modules:
        meta = gdir / "mutants" / "src" / PACKAGE / (module.path + ".meta")
        codes = json.loads(meta.read_text())["exit_code_by_key"] if meta.exists() else {}
        prefixes = [p.removesuffix("*") for p in module.patterns]
        result[module.path] = {name: code for name, code in sorted(codes.items())
                               if any(name.startswith(p) for p in prefixes)}
    return result


def status(code: int | None) -> str:
    if code in KILLED:
        return "killed"
    if code in SURVIVED:
        return "survived"
    if code in NO_TESTS:
        return "no_tests"
    if code in TIMEOUT:
        return "timeout"
    if code is None:
        return "not_checked"
    return "suspicious"


def counts(codes: dict[str, int | None], equivalent: set[str] = frozenset()) -> dict[str, Any]:
    """killed / survived / equivalent / timeout / total and the scores.

    ``survived`` counts the surviving mutants not judged equivalent, those no selected test
    reaches ("no tests") included; ``score`` = killed / (killed + survived), and
    ``score_all_survivors`` counts the equivalent ones as survived too.
    """
    by = {"killed": 0, "survived": 0, "no_tests": 0, "timeout": 0, "suspicious": 0, "not_checked": 0,
          "equivalent": 0}
    for name, code in codes.items():
        kind = status(code)
        if kind in ("survived", "no_tests") and name in equivalent:
            kind = "equivalent"
        by[kind] += 1
    survived = by["survived"] + by["no_tests"]
    decided = by["killed"] + survived
    everything = decided + by["equivalent"]
    return {"killed": by["killed"], "survived": survived, "of_which_no_tests": by["no_tests"],
            "equivalent": by["equivalent"], "timeout": by["timeout"], "suspicious": by["suspicious"],
            "not_checked": by["not_checked"], "total": len(codes),
            "score": by["killed"] / decided if decided else None,
            "score_all_survivors": by["killed"] / everything if everything else None}


def stats(gdir: Path) -> dict[str, Any]:
    path = gdir / "mutants" / "mutmut-stats.json"
    return json.loads(path.read_text()) if path.exists() else {}


def _mutmut_diff(gdir: Path, name: str) -> str:
    """``mutmut show``'s diff of one mutant, computed in this process (a ``mutmut show`` per
    mutant starts Python and reads the mutated module again: seconds each under load), or with
    ``mutmut show`` itself if its internals are not there."""
    try:
        from mutmut.mutation.diff_apply import get_diff_for_mutant
    except ImportError:
        get_diff_for_mutant = None
    if get_diff_for_mutant is not None:
        cwd = os.getcwd()
        try:
            os.chdir(gdir)
            return get_diff_for_mutant(name)
        except Exception:  # noqa: BLE001 - any failure: ask mutmut show instead
            pass
        finally:
            os.chdir(cwd)
    return subprocess.run([sys.executable, "-m", "mutmut", "show", name], cwd=gdir, env=tool_env(gdir),
                          capture_output=True, text=True).stdout


def short_diff(gdir: Path, name: str) -> str:
    """The mutant's changed lines (``mutmut show``), ``-old / +new``, whitespace collapsed."""
    out = _mutmut_diff(gdir, name)
    changed = [" ".join(line.split()) for line in out.splitlines()
               if line[:1] in "+-" and not line.startswith(("+++", "---"))]
    return " / ".join(changed)[:300]


def killing_tests(gdir: Path, name: str, tests: list[str]) -> list[str]:
    """The tests among ``tests`` that fail against mutant ``name`` (one pytest run, no ``-x``)."""
    if not tests:
        return []
    env = tool_env(gdir)
    env["MUTANT_UNDER_TEST"] = name
    out = subprocess.run([sys.executable, "-m", "pytest", "-p", "no:pytest-brownie", "-p", "no:cacheprovider",
                          "-q", "--tb=no", "-rf", *sorted(tests)],
                         cwd=gdir / "mutants", env=env, capture_output=True, text=True).stdout
    return sorted({m.group(1) for m in re.finditer(r"^FAILED (\S+)", out, re.MULTILINE)})


def first_pass(gdir: Path, group: Group, timeout_multiplier: float) -> None:
    prepare(gdir, group, timeout_multiplier)
    start = time.monotonic()
    run_mutmut(gdir, [p for m in group.modules for p in m.patterns])
    record_first_pass(gdir, group, time.monotonic() - start)


def record_first_pass(gdir: Path, group: Group, elapsed_s: float | None) -> None:
    """Write ``first_pass.json`` from the state mutmut left in the work dir."""
    codes = exit_codes(gdir, group)
    record = {
        "elapsed_s": elapsed_s,
        "source": source_revision(),
        "imported_from": imported_from(gdir),
        "exit_codes": codes,
        "tests": sorted(stats(gdir).get("duration_by_test", {})),
        "diffs": {name: short_diff(gdir, name) for mod in codes.values() for name, code in mod.items()
                  if status(code) in ("survived", "no_tests")},
    }
    (gdir / "first_pass.json").write_text(json.dumps(record, indent=1) + "\n")


def equivalent_reason(name: str, diff: str) -> str | None:
    """Why a surviving mutant changes no behaviour (``EQUIVALENT`` or the message rules), else None."""
    if name in EQUIVALENT and EQUIVALENT[name][0] == diff:
        return EQUIVALENT[name][1]
    if message_wording_only(diff):
        return MESSAGE_WORDING
    if message_dropped_only(diff):
        return MESSAGE_DROPPED
    return None


def rerun_survivors(gdir: Path, group: Group, only: list[str] | None = None) -> None:
    """Run the first pass's survivors that are not equivalent against the checkout's tests, and
    name the new tests that kill each one now killed."""
    record = json.loads((gdir / "first_pass.json").read_text())
    earlier_path = gdir / "rerun.json"
    earlier = json.loads(earlier_path.read_text()) if earlier_path.exists() else {"elapsed_s": 0.0, "killers": {}}
    current = {name: code for mod in exit_codes(gdir, group).values() for name, code in mod.items()}
    # a survivor killed by an earlier rerun stays killed (the tests only grow): not run again
    survivors = sorted(name for name, diff in record["diffs"].items()
                       if equivalent_reason(name, diff) is None and status(current.get(name)) != "killed"
                       and (not only or any(fnmatch.fnmatchcase(name, pattern) for pattern in only)))
    refresh_tests(gdir)
    start = time.monotonic()
    if survivors:
        run_mutmut(gdir, survivors)
    old_tests = set(record["tests"])
    by_function = stats(gdir).get("tests_by_mangled_function_name", {})
    now = {name: code for mod in exit_codes(gdir, group).values() for name, code in mod.items()}
    killers: dict[str, list[str]] = {}
    for name in survivors:
        if status(now.get(name)) != "killed":
            continue
        new = [t for t in by_function.get(name.partition("__mutmut_")[0], []) if t not in old_tests]
        killers[name] = killing_tests(gdir, name, new)
    rerun = {"elapsed_s": (earlier.get("elapsed_s") or 0.0) + time.monotonic() - start,
             "rerun": sorted(set(earlier.get("rerun", [])) | set(survivors)),
             "killers": {**earlier.get("killers", {}), **killers}}
    (gdir / "rerun.json").write_text(json.dumps(rerun, indent=1) + "\n")


# -------------------------------------------------------------------------------- report


def verdict(name: str, code: int | None, diff: str, killers: dict[str, list[str]]) -> str:
    if status(code) == "killed":
        tests = killers.get(name)
        return "killed by " + (", ".join(tests) if tests else "the rerun (no new test fails alone against it)")
    reason = equivalent_reason(name, diff)
    if reason is not None:
        return f"equivalent: {reason}"
    if name in EQUIVALENT:
        return "unreviewed (an equivalence reason was recorded for a different diff)"
    if status(code) == "timeout":
        return "timeout on rerun"
    return "unreviewed"


def report(work_dir: Path, machine: dict[str, Any], parameters: dict[str, Any]) -> dict[str, Any]:
    modules: dict[str, Any] = {}
    survivors: list[dict[str, Any]] = []
    groups: dict[str, Any] = {}
    before_all: dict[str, int | None] = {}
    now_all: dict[str, int | None] = {}
    equivalent_all: set[str] = set()
    for group in GROUPS:
        gdir = group_dir(work_dir, group)
        if not (gdir / "first_pass.json").exists():
            continue
        record = json.loads((gdir / "first_pass.json").read_text())
        rerun_path = gdir / "rerun.json"
        rerun = json.loads(rerun_path.read_text()) if rerun_path.exists() else None
        current = exit_codes(gdir, group)
        groups[group.name] = {"tests": list(group.tests), "source": record.get("source"),
                              "imported_from": record["imported_from"],
                              "first_pass_s": record["elapsed_s"],
                              "rerun_s": rerun["elapsed_s"] if rerun else None,
                              **({"note": group.note} if group.note else {})}
        killers = rerun["killers"] if rerun else {}
        for module in group.modules:
            before = record["exit_codes"][module.path]
            now = current[module.path]
            rows = [{"module": module.path, "mutant": name, "diff": record["diffs"][name],
                     "status_now": status(now[name]),
                     "verdict": verdict(name, now[name], record["diffs"][name], killers)}
                    for name in sorted(record["diffs"]) if name in now]
            equivalent = {row["mutant"] for row in rows if row["verdict"].startswith("equivalent")}
            equivalent_all |= equivalent
            before_all.update(before)
            now_all.update(now)
            modules[module.path] = {"scope": module.scope, "group": group.name, **counts(now, equivalent),
                                    "score_before_new_tests": counts(before, equivalent)["score"]}
            survivors.extend(rows)
    total = counts(now_all, equivalent_all)
    return {
        "benchmark": "mutation",
        "created": benchkit.utc_timestamp(),
        "machine": machine,
        "tool": {"name": "mutmut", "version": benchkit.library_version("mutmut")},
        "parameters": parameters,
        "score_before_new_tests": counts(before_all, equivalent_all)["score"],
        "score": total["score"],
        "score_all_survivors": total["score_all_survivors"],
        "totals": total,
        "unreviewed": sum(s["verdict"].startswith("unreviewed") for s in survivors),
        "groups": groups,
        "not_run": [g.name for g in GROUPS if g.name not in groups],
        "modules": modules,
        "survivors": survivors,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    names = [g.name for g in GROUPS]
    parser.add_argument("--groups", default=",".join(names),
                        help=f"comma-separated groups to run, in this order: {','.join(names)}")
    parser.add_argument("--work-dir", type=Path, default=DEFAULT_WORK_DIR,
                        help=f"scratch copies, one per group (default {DEFAULT_WORK_DIR})")
    parser.add_argument("--rerun-survivors", action="store_true",
                        help="rerun the first pass's survivors against the checkout's current tests")
    parser.add_argument("--only", action="append", metavar="GLOB",
                        help="with --rerun-survivors: rerun only the survivors whose name matches (repeatable)")
    parser.add_argument("--report-only", action="store_true",
                        help="run nothing: write the report from the work dir's state")
    parser.add_argument("--record-first-pass", action="store_true",
                        help="run nothing: record the first pass of groups whose mutmut run ended but whose "
                             "first_pass.json was not written (the driver stopped while listing survivors)")
    parser.add_argument("--timeout-multiplier", type=float, default=5.0,
                        help="mutmut's time limit factor (default 5)")
    parser.add_argument("--out-dir", type=Path, default=ROOT / "benchmarks" / "results")
    args = parser.parse_args(argv)
    chosen = [name.strip() for name in args.groups.split(",") if name.strip()]
    unknown = sorted(set(chosen) - set(names))
    if unknown or not chosen:
        print(f"error: unknown group {', '.join(unknown) or '(none given)'}: expected some of {', '.join(names)}",
              file=sys.stderr)
        return 2
    if args.timeout_multiplier <= 0:
        print(f"error: --timeout-multiplier {args.timeout_multiplier}: expected a positive number", file=sys.stderr)
        return 2
    if args.rerun_survivors:
        missing = [n for n in chosen if not (args.work_dir / n / "first_pass.json").exists()]
        if missing:
            print(f"error: no first pass of {', '.join(missing)} in {args.work_dir}: run without "
                  "--rerun-survivors first", file=sys.stderr)
            return 2

    machine = benchkit.machine_info(["mutmut", "pytest", "hypothesis"], processor_key="cpu_model")
    parameters = {"max_children": 1, "timeout_multiplier": args.timeout_multiplier, "timeout_constant_s": 2.0,
                  "score": "killed / (killed + survived); survived includes mutants no selected test reaches; "
                           "timeouts are counted apart"}
    args.out_dir.mkdir(parents=True, exist_ok=True)
    out = args.out_dir / "mutation.json"
    if args.record_first_pass:
        for group in GROUPS:
            gdir = group_dir(args.work_dir, group)
            if group.name in chosen and (gdir / "mutants").is_dir():
                record_first_pass(gdir, group, None)
                log(f"{group.name}: first pass recorded from {gdir}")
        args.report_only = True
    if args.report_only:
        machine["loadavg_at_end"] = benchkit.load_average()
        benchkit.write_json(out, report(args.work_dir, machine, parameters))
        log(f"wrote {out}")
        return 0
    for group in GROUPS:
        if group.name not in chosen:
            continue
        gdir = group_dir(args.work_dir, group)
        log(f"{group.name}: {'rerun of survivors' if args.rerun_survivors else 'first pass'} in {gdir}")
        if args.rerun_survivors:
            rerun_survivors(gdir, group, args.only)
        else:
            first_pass(gdir, group, args.timeout_multiplier)
        machine["loadavg_at_end"] = benchkit.load_average()
        result = report(args.work_dir, machine, parameters)
        benchkit.write_json(out, result)
        log(f"{group.name}: done; overall score {result['score']}")
    log(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
