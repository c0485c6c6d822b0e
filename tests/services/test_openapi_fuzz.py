"""The service fuzzed from its own OpenAPI schema by Schemathesis, on both engines.

Schemathesis generates requests from ``/openapi.json`` (well-formed and not, every method,
every path) and checks each answer: no server error, a status the schema documents, a body and
headers as the schema says (``--checks all``). It cannot sign requests, so the writes it sends
are refused (401), which the checks accept; signed writes are covered by ``test_routes.py``.

Schemathesis needs a newer hypothesis than brownie pins: it runs from its own venv
(``.venv/schemathesis``, made by ``make setup`` from ``tools/schemathesis.txt``) as a separate
process, as a client of the service would. Without it the test is skipped, and fails under CI.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from crowdsense.chain.accounts import dev_signer
from crowdsense.ldpf.pdc.region import GridRegion
from crowdsense.services.client import ServiceClient
from crowdsense.services.ctbc_client import EdgeClient
from crowdsense.ldpf.ctbc.sealed import write_platform_key
from crowdsense.services.ctbc_routes import CtbcConfig
from crowdsense.services.pdc_client import PdcClient
from crowdsense.services.pdc_routes import PdcConfig

SCHEMATHESIS = Path(os.environ.get("CROWDSENSE_SCHEMATHESIS", Path(sys.prefix) / "schemathesis" / "bin" /
                                   "schemathesis"))
EXAMPLES = 60  # per operation and phase


def schemathesis(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    if not SCHEMATHESIS.exists():
        message = f"Schemathesis is not installed ({SCHEMATHESIS} is missing): run make setup"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    env = {**os.environ, "NO_COLOR": "1", "COLUMNS": "200"}
    return subprocess.run([str(SCHEMATHESIS), *args], cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=600, check=False)


def test_every_answer_is_one_the_schema_documents(serve_in_thread, database_url, fresh_env, pdc_key_file, tmp_path):
    platform = PdcConfig(pdc_key_file, fresh_env.roles.admin.address, rpc_url=fresh_env.url,
                         deployment=fresh_env.deployment_path)
    key_file = tmp_path / "ctbc-key.json"
    write_platform_key(key_file)
    roles = {"edge": dev_signer(7).address, "anonymizer": dev_signer(8).address,
             "ctbc": CtbcConfig(key_file, fresh_env.roles.admin.address, rpc_url=fresh_env.url,
                                deployment=fresh_env.deployment_path)}
    # every role in one app (a real edge and anonymizer are two services): every operation answers
    server = serve_in_thread(database_url=database_url, pdc=platform, roles=roles)
    ServiceClient(server.url, dev_signer(1)).put_blob(b"something stored")  # reads meet a non-empty store
    region = GridRegion(origin=(-22.95, -43.30), step=50.0, width=20, height=20)
    PdcClient(server.url, fresh_env.roles.admin).open_task("t1", region, "-22.945,-43.295")  # and an open task
    EdgeClient(server.url, dev_signer(7)).open_epoch((-22.9, -43.2))  # and an open epoch
    run = schemathesis("run", f"{server.url}/openapi.json", "--checks", "all", "--max-examples", str(EXAMPLES),
                       "--seed", "1", "--request-timeout", "10", cwd=tmp_path)
    report = run.stdout + run.stderr
    assert run.returncode == 0, report[-4000:]
    assert "Tested: 23" in report, report[-4000:]  # every operation of the schema was reached
    assert " passed" in report and "failures" not in report.split("SUMMARY")[-1], report[-4000:]


def test_the_fuzzer_notices_an_undocumented_answer(serve_in_thread, tmp_path):
    """The negative control: a route that answers with a status its schema does not list is
    reported, so a passing run above means something."""
    server = serve_in_thread(database_url=f"sqlite:///{tmp_path}/s.sqlite")

    @server.app.get("/v1/teapot", summary="An undocumented answer")
    async def teapot() -> None:
        from fastapi import HTTPException

        raise HTTPException(status_code=418, detail="no")

    server.app.openapi_schema = None  # rebuild the schema with the new route
    run = schemathesis("run", f"{server.url}/openapi.json", "--checks", "all", "--max-examples", "5",
                       "--seed", "1", "--include-path", "/v1/teapot", cwd=tmp_path)
    report = run.stdout + run.stderr
    assert run.returncode != 0 and "Undocumented status code" in report, report[-4000:]
