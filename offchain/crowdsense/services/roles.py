"""What the routes of the parties' roles (PDC platform, edge, anonymizer, CTBC platform) share:
task ids, JSON bodies, and the operator check.

A role is configured per service process (``crowdsense service serve --pdc-key ... /
--edge-operator ... / --anonymizer-operator ... / --ctbc-key ...``); a service without a role
answers that role's paths with 404 and says which option it lacks.
"""

from __future__ import annotations

import json
import re
from typing import Annotated, Any

from fastapi import Path, Request

from crowdsense.services.routes import ApiError, ServiceState, authenticate

__all__ = ["role_of", "TASK_ID_PATTERN", "TaskId", "JSON_BODY", "checked_task_id", "json_body", "json_body_schema",
           "require_operator", "hex_field", "hex_schema", "NUMBER", "ADDRESS"]

TASK_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$"
TaskId = Annotated[str, Path(description="the task's id", json_schema_extra={"pattern": TASK_ID_PATTERN})]
JSON_BODY = {"requestBody": {"required": True, "content": {"application/json": {"schema": {"type": "object"}}}}}
ADDRESS = {"type": "string", "pattern": "^0x[0-9a-fA-F]{40}$"}
NUMBER = {"type": "number"}


def hex_schema(size: int) -> dict[str, Any]:
    """The schema of ``size`` bytes as 0x-hex."""
    return {"type": "string", "pattern": f"^0x[0-9a-fA-F]{{{2 * size}}}$"}


def json_body_schema(properties: dict[str, Any], optional: tuple[str, ...] = ()) -> dict[str, Any]:
    """``openapi_extra`` of a JSON body: an object of exactly these properties (those not in
    ``optional`` required, no others), so that clients and fuzzers generated from the schema send
    what the route accepts."""
    schema = {"type": "object", "properties": properties, "additionalProperties": False,
              "required": [name for name in properties if name not in optional]}
    return {"requestBody": {"required": True, "content": {"application/json": {"schema": schema}}}}


def checked_task_id(value: Any) -> str:
    """``value`` checked as a task id (400 otherwise)."""
    if not isinstance(value, str) or not re.fullmatch(TASK_ID_PATTERN, value):
        raise ApiError(400, f"task id {str(value)[:60]!r} is malformed: expected 1-128 letters, digits and ._:- "
                            "(starting with a letter or digit)")
    return value


def json_body(body: bytes, what: str, keys: set[str] | None = None) -> Any:
    """The JSON of ``body`` (400 if it is not JSON, or with ``keys``, not an object of exactly those keys)."""
    try:
        doc = json.loads(body)
    except (UnicodeDecodeError, ValueError):
        raise ApiError(400, f"the body is not JSON: expected {what} as a JSON object") from None
    if keys is not None and (not isinstance(doc, dict) or set(doc) != keys):
        raise ApiError(400, f"the body is malformed: expected {what}, an object with {', '.join(sorted(keys))}")
    return doc


def hex_field(doc: dict[str, Any], key: str, size: int | None = None) -> bytes:
    """``doc[key]`` as bytes from 0x-hex (400 if malformed or not ``size`` bytes)."""
    value = doc.get(key)
    try:
        if not isinstance(value, str) or not value.startswith("0x"):
            raise ValueError
        data = bytes.fromhex(value[2:])
    except ValueError:
        raise ApiError(400, f"{key} is not hex: expected 0x and hex digits") from None
    if size is not None and len(data) != size:
        raise ApiError(400, f"{key} is {len(data)} bytes: expected {size}")
    return data


async def require_operator(request: Request, state: ServiceState, operator: str, body: bytes, what: str) -> None:
    """Authenticate the request and check it is signed by the role's ``operator`` (403 otherwise)."""
    signed = await authenticate(request, state, body)
    if signed.account != operator:
        raise ApiError(403, f"account {signed.account} is not this {what}'s operator: expected requests "
                            f"signed by {operator}")


def role_of(request: Request, name: str, what: str, option: str) -> tuple[ServiceState, Any]:
    """The service's state and its role ``name`` (an attribute of the state); 404 naming the
    ``option`` that starts it when the service was started without it."""
    state: ServiceState = request.app.state.service
    role = getattr(state, name)
    if role is None:
        raise ApiError(404, f"this service is not {what}: expected a service started with {option}")
    return state, role
