"""From a revert to its typed error: raw revert data, a web3 exception, a node request.

The classes and their selectors are :mod:`crowdsense.chain.errors`; this module reads what the
node said. :func:`call_decoded` is the one place where a web3 exception from a node request
becomes one of those classes.
"""

from __future__ import annotations

from typing import Any, Callable, TypeVar

from eth_abi import decode as abi_decode

from crowdsense.chain.errors import (
    _SELECTORS,
    ContractRevertError,
    NodeUnavailableError,
    PanicError,
    RevertStringError,
    UnknownRevertError,
)

__all__ = ["call_decoded", "decode_revert", "revert_from_exception", "revert_from_rpc_error"]

T = TypeVar("T")


def decode_revert(data: bytes | str | None) -> ContractRevertError:
    """Decode raw revert data (selector + ABI-encoded arguments) into its typed error.

    Unknown selectors, empty data and malformed arguments give :class:`UnknownRevertError`
    (with the raw data in its message) rather than an exception of the decoder.
    """
    if isinstance(data, str):
        text = data.removeprefix("0x")
        try:
            raw = bytes.fromhex(text)
        except ValueError:
            return UnknownRevertError(detail=data or "no revert data")
    else:
        raw = bytes(data or b"")
    if len(raw) < 4:
        return UnknownRevertError(detail="no revert data (out of gas, or a revert without a reason)")
    cls = _SELECTORS.get(raw[:4])
    if cls is None:
        return UnknownRevertError(detail=f"unknown error selector 0x{raw[:4].hex()} (data 0x{raw.hex()})")
    try:
        args = abi_decode(list(cls.abi_types), raw[4:]) if cls.abi_types else ()
    except Exception:  # noqa: BLE001 - any decoder failure means the data is not this error
        return UnknownRevertError(detail=f"malformed arguments for {cls.solidity_name} (data 0x{raw.hex()})")
    return cls(*args)


def revert_from_exception(exc: BaseException) -> ContractRevertError | None:
    """The typed revert carried by a web3 exception (``ContractLogicError`` and kin), or None.

    web3 raises ``ContractCustomError`` with the raw revert data for custom errors,
    ``ContractLogicError`` with ``"execution reverted: <reason>"`` for string reverts and
    ``ContractPanicError`` for panics; some nodes instead return a JSON-RPC error whose
    ``data`` field holds the revert data. All of them end up here, Ganache's forms included
    (:func:`_revert_data`, :func:`_revert_reason`).
    """
    from web3.exceptions import ContractLogicError, ContractPanicError, Web3RPCError

    data = _revert_data(getattr(exc, "data", None))
    if isinstance(exc, ContractPanicError):
        decoded = decode_revert(data) if isinstance(data, (str, bytes)) else None
        return decoded if isinstance(decoded, PanicError) else PanicError(code=0)
    if isinstance(exc, ContractLogicError):
        if isinstance(data, (str, bytes)) and len(data) >= 8:
            return decode_revert(data)
        reason = _revert_reason(str(getattr(exc, "message", None) or exc))
        return RevertStringError(reason=reason) if reason else decode_revert(None)
    if isinstance(exc, Web3RPCError):
        rpc = getattr(exc, "rpc_response", None) or {}
        return revert_from_rpc_error(rpc.get("error") if isinstance(rpc, dict) else None)
    return None


def revert_from_rpc_error(error: Any) -> ContractRevertError | None:
    """The typed revert of a JSON-RPC ``error`` object (``{"code", "message", "data"}``) that
    reports a revert with its data, or None."""
    if isinstance(error, dict) and isinstance(_revert_data(error.get("data")), str):
        if "revert" in str(error.get("message", "")):
            return decode_revert(_revert_data(error["data"]))
    return None


def _revert_data(data: Any) -> Any:
    """The revert data of an error's ``data`` field.

    Most nodes put the hex data there; Ganache's ``eth_estimateGas`` puts an object whose
    ``result`` holds it (beside ``reason`` and ``programCounter``).
    """
    if isinstance(data, dict):
        return data.get("result") if isinstance(data.get("result"), str) else None
    return data


def _revert_reason(message: str) -> str:
    """The reason string of a revert message, "" when it carries none.

    Anvil and geth say ``execution reverted: <reason>``; Ganache says ``VM Exception while
    processing transaction: revert <reason>`` (plain ``revert`` when there is no reason), which
    web3 may prefix with ``execution reverted: `` too.
    """
    reason = message.removeprefix("execution reverted").lstrip(": ")
    reason = reason.removeprefix("VM Exception while processing transaction: ")
    if reason == "revert" or reason.startswith("revert "):
        reason = reason.removeprefix("revert")
    return reason.strip()


def call_decoded(fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """``fn(*args, **kwargs)`` for a node request that runs contract code, reverts typed.

    The one place where a web3 exception becomes the contract's typed error: a revert reported
    by ``eth_call`` or ``eth_estimateGas`` (a contract read, a gas estimate, the replay of a
    failed transaction) is raised as its :class:`ContractRevertError` subclass, so callers
    catch ``LevelMismatchError`` whatever the node said. :class:`NodeUnavailableError` and
    errors that carry no revert propagate unchanged.
    """
    try:
        return fn(*args, **kwargs)
    except NodeUnavailableError:
        raise
    except Exception as exc:
        revert = revert_from_exception(exc)
        if revert is not None:
            raise revert from None
        raise
