"""What the runner sends, checked against the JSON Schema generated from the TypeScript side's zod schemas.

protocol.schema.json (beside this file) is written by `npm run protocol-schema` from src/ (each engine family's spec,
each one-shot job's request), so the protocol is defined once. The checker below knows exactly the keywords that
generator writes, and refuses a schema with any other: a new kind of constraint fails the tests here instead of being
skipped. It is a checker rather than the `jsonschema` package because the worker runs on GPU hosts whose Python holds
only what the engines need (numpy, torch, onnxruntime): one more install on every such host for a dozen keywords.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

from tr118_native.worker.errors import WorkerError

SCHEMA_FILE = Path(__file__).with_name("protocol.schema.json")

KNOWN = {
    "type",
    "properties",
    "required",
    "additionalProperties",
    "propertyNames",
    "enum",
    "const",
    "minimum",
    "maximum",
    "exclusiveMinimum",
    "minLength",
    "items",
    "prefixItems",
    "minItems",
    "maxItems",
    "default",
    "description",
}

TYPES: dict[str, tuple[type, ...]] = {
    "object": (dict,),
    "array": (list,),
    "string": (str,),
    "boolean": (bool,),
    "integer": (int,),
    "number": (int, float),
}


@cache
def protocol_schema() -> dict[str, Any]:
    return json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))


def problems(value: Any, schema: dict[str, Any] | bool, where: str = "") -> list[str]:
    """Every way `value` breaks `schema`, each naming its place ("backend.provider: ...")."""
    if schema is True:
        return []
    if schema is False:
        return [f"{where or '(value)'}: not allowed here"]
    unknown = set(schema) - KNOWN
    if unknown:
        raise ValueError(f"{where or '(schema)'}: keywords this checker does not know: {sorted(unknown)}")
    at = where or "(value)"
    kind = schema.get("type")
    if kind is not None:
        # bool is an int in Python; JSON keeps them apart.
        is_bool = isinstance(value, bool)
        if not isinstance(value, TYPES[kind]) or (is_bool and kind in ("integer", "number")):
            return [f"{at}: expected {kind}, got {json.dumps(value)}"]
    out: list[str] = []
    if "const" in schema and value != schema["const"]:
        out.append(f"{at}: expected {json.dumps(schema['const'])}, got {json.dumps(value)}")
    if "enum" in schema and value not in schema["enum"]:
        out.append(f"{at}: expected one of {', '.join(map(str, schema['enum']))}, got {json.dumps(value)}")
    out += bound_problems(value, schema, at)
    if isinstance(value, dict):
        out += object_problems(value, schema, where)
    if isinstance(value, list):
        out += array_problems(value, schema, where)
    return out


def bound_problems(value: Any, schema: dict[str, Any], at: str) -> list[str]:
    out: list[str] = []
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if "minimum" in schema and value < schema["minimum"]:
            out.append(f"{at}: expected at least {schema['minimum']}, got {value}")
        if "maximum" in schema and value > schema["maximum"]:
            out.append(f"{at}: expected at most {schema['maximum']}, got {value}")
        if "exclusiveMinimum" in schema and value <= schema["exclusiveMinimum"]:
            out.append(f"{at}: expected more than {schema['exclusiveMinimum']}, got {value}")
    if isinstance(value, str) and len(value) < schema.get("minLength", 0):
        out.append(f"{at}: expected at least {schema['minLength']} characters, got {json.dumps(value)}")
    return out


def object_problems(value: dict[str, Any], schema: dict[str, Any], where: str) -> list[str]:
    prefix = f"{where}." if where else ""
    out = [f"{prefix}{key}: missing" for key in schema.get("required", []) if key not in value]
    properties: dict[str, Any] = schema.get("properties", {})
    extra = schema.get("additionalProperties", True)
    for key, item in value.items():
        out += problems(item, properties.get(key, extra), f"{prefix}{key}")
    return out


def array_problems(value: list[Any], schema: dict[str, Any], where: str) -> list[str]:
    at = where or "(value)"
    out: list[str] = []
    if len(value) < schema.get("minItems", 0):
        out.append(f"{at}: expected at least {schema['minItems']} items, got {len(value)}")
    if "maxItems" in schema and len(value) > schema["maxItems"]:
        out.append(f"{at}: expected at most {schema['maxItems']} items, got {len(value)}")
    prefix_items: list[Any] = schema.get("prefixItems", [])
    rest = schema.get("items", True)
    for i, item in enumerate(value):
        out += problems(item, prefix_items[i] if i < len(prefix_items) else rest, f"{at}[{i}]")
    return out


def with_defaults(value: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    """The object with each absent property that has a default set to it (top level: specs carry no nesting)."""
    defaults = {k: p["default"] for k, p in schema.get("properties", {}).items() if "default" in p}
    return {**defaults, **value}


def checked(value: dict[str, Any], schema: dict[str, Any], what: str) -> dict[str, Any]:
    """`value` with its defaults, or a failed request naming the first problems."""
    value = with_defaults(value, schema)
    found = problems(value, schema, what)
    if found:
        more = f" (and {len(found) - 3} more)" if len(found) > 3 else ""
        raise WorkerError("failed", f"bad request: {'; '.join(found[:3])}{more}")
    return value


def parse_spec(backend: Any) -> dict[str, Any]:
    """The `backend` of an `open`: its engine family's spec, checked, defaults in place."""
    if not isinstance(backend, dict):
        raise WorkerError("failed", "bad request: backend: expected an object")
    specs: dict[str, Any] = protocol_schema()["specs"]
    engine = backend.get("engine")
    if engine not in specs:
        raise WorkerError("failed", f"bad request: backend.engine: expected one of {', '.join(specs)}, got {engine!r}")
    return checked(backend, specs[engine], "backend")


def parse_job(request: dict[str, Any]) -> dict[str, Any]:
    """A one-shot job's request (without its id), checked against the job's schema."""
    body = {k: v for k, v in request.items() if k != "id"}
    return checked(body, protocol_schema()["jobs"][request["type"]], str(request["type"]))
