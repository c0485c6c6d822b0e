"""The main job as a brownie script, against brownie's active network.

    brownie run scripts/demo.py                      # brownie's development network (local Anvil)
    brownie run scripts/demo.py --network my-anvil   # any local development network brownie knows

It calls the same function as ``crowdsense demo`` (:func:`crowdsense.runs.demo.run_demo`) with the RPC
URL of brownie's active network; the contracts are deployed with the shipped artifacts, exactly
as the command does. Further ``crowdsense demo`` options can be given in the environment
variable ``CROWDSENSE_DEMO_ARGS`` (for example ``"--tasks 6 --receivers 60 --json"``);
``--rpc-url`` there is ignored. The simulated parties use publicly known keys, so only local
development chains (chain id 31337 or 1337) are accepted.
"""

from __future__ import annotations

import json
import os
import shlex

from brownie import network, web3

from crowdsense.cli.demo import options_from_args
from crowdsense.runs.demo import DemoResult, format_summary, run_demo


def main() -> DemoResult:
    if not network.is_connected():
        raise SystemExit("error: brownie is not connected to a network")
    url = getattr(web3.provider, "endpoint_uri", None)
    if not url or not str(url).startswith(("http://", "https://")):
        raise SystemExit(f"error: the active network {network.show_active()!r} has no HTTP RPC URL ({url!r})")
    options, as_json = options_from_args(shlex.split(os.environ.get("CROWDSENSE_DEMO_ARGS", "")), rpc_url=str(url))
    result = run_demo(options, echo=print)
    print(json.dumps(result.summary, indent=2, default=str) if as_json else format_summary(result.summary))
    return result
