"""The JSON Schema of network files (``dmm.schema.json``, shipped as package
data so editors can validate ``*.dmm.json`` with it) and its checker.

``first_error(data, part)`` checks ``data`` against the whole schema
(``part=None``) or one of its ``$defs`` (``"fields"``, ``"field"``) with
``jsonschema`` and turns the first error into one clear line: the message
comes from the ``x-messages`` templates written beside the schema's keywords
(so the wording lives with the rule), and the JSON path names where it is.

Two custom keywords carry what plain JSON Schema cannot say; editors treat
them as annotations:

* ``x-finite``: a number that fits a float64 (no NaN or infinity, no integer
  of magnitude ``>= 2**1024``);
* ``x-unique-names``: the objects of a list have distinct ``name``.

For the loader the V-values inside ``outputs`` are not walked by jsonschema
(``vvalue`` is replaced by ``true``): ``dmm_studio.vvalue.from_json`` checks
them in one iterative pass, which is far faster on large matrices and
handles deep values.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Iterator
from dataclasses import dataclass
from importlib import resources
from typing import Any

SCHEMA_FILE = "dmm.schema.json"
SCHEMA_ID = "urn:dmm-studio:schema:dmm-studio-1"
FLOAT_LIMIT = 2**1024  # integers at or beyond this do not fit a float64
_INSTANCE_STEPS = ("properties", "items", "prefixItems", "additionalProperties", "patternProperties")


@dataclass
class SchemaProblem:
    """The first thing wrong: a one-line message and its JSON path."""

    message: str
    path: tuple[Any, ...]


@functools.cache
def read_schema(package: str, name: str) -> dict[str, Any]:
    """A JSON Schema shipped as package data (``name`` in ``package``), read once."""
    data: dict[str, Any] = json.loads(resources.files(package).joinpath(name).read_text(encoding="utf-8"))
    return data


def schema() -> dict[str, Any]:
    """The network file's schema as a dict (read once from the package)."""
    return read_schema(__package__, SCHEMA_FILE)


def fits_float(x: Any) -> bool:
    """A number that a float64 holds: finite, and an integer below 2**1024 in magnitude."""
    if isinstance(x, float):
        return x - x == 0  # False for inf and nan
    return -FLOAT_LIMIT < x < FLOAT_LIMIT


@functools.cache
def _validator_class() -> Any:
    from jsonschema import Draft202012Validator, ValidationError, validators

    def x_finite(validator: Any, on: Any, instance: Any, _schema: Any) -> Iterator[Any]:
        if on and validator.is_type(instance, "number") and not fits_float(instance):
            yield ValidationError(f"{short(instance)} is not a finite number")

    def x_unique_names(validator: Any, on: Any, instance: Any, _schema: Any) -> Iterator[Any]:
        if not (on and validator.is_type(instance, "array")):
            return
        seen: set[str] = set()
        for i, item in enumerate(instance):
            name = item.get("name") if isinstance(item, dict) else None
            if isinstance(name, str):
                if name in seen:
                    yield ValidationError("another field has this name", path=[i])
                    return
                seen.add(name)

    return validators.extend(Draft202012Validator, {"x-finite": x_finite, "x-unique-names": x_unique_names})


@functools.cache
def _validator(part: str | None, for_loader: bool) -> Any:
    from referencing import Registry, Resource

    root = schema()
    if for_loader:
        root = {**root, "$defs": {**root["$defs"], "vvalue": True}}
    registry: Any = Registry().with_resource(SCHEMA_ID, Resource.from_contents(root))
    target = root if part is None else {"$ref": f"{SCHEMA_ID}#/$defs/{part}"}
    return _validator_class()(target, registry=registry), root


def first_error(data: Any, part: str | None = None, *, for_loader: bool = False) -> SchemaProblem | None:
    """The first schema error of ``data`` as a ``SchemaProblem``, or None when valid.

    ``part`` names a ``$defs`` entry to check against instead of the whole
    file; ``for_loader`` leaves V-values to ``vvalue.from_json``.
    """
    validator, root = _validator(part, for_loader)
    error = next(iter(validator.iter_errors(data)), None)
    if error is None:
        return None
    return _problem(error, root, part, data)


# ------------------------------------------------------------------ messages


def short(x: Any) -> str:
    """A value as a short repr for a one-line message."""
    if isinstance(x, int) and not isinstance(x, bool) and abs(x) >= 10**20:
        return f"an integer of {len(str(abs(x))) if abs(x) < 10**4000 else 'over 4,000'} digits"
    text = repr(x)
    return text if len(text) <= 60 else text[:57] + "..."


class _Short:
    def __init__(self, x: Any) -> None:
        self.x = x

    def __repr__(self) -> str:
        return short(self.x)

    __str__ = __repr__


def kind(x: Any) -> str:
    """``an object``, ``a list``, ``a string``, ``a boolean``, ``null`` or ``a number``."""
    return {dict: "an object", list: "a list", str: "a string", bool: "a boolean", type(None): "null"}.get(
        type(x), "a number"
    )


def _resolve(root: dict[str, Any], ref: str) -> Any:
    node: Any = root
    for part in ref.split("#", 1)[1].strip("/").split("/"):
        if part:
            node = node[part]
    return node


def _levels(root: dict[str, Any], part: str | None, schema_path: Any) -> list[list[dict[str, Any]]]:
    """The schema nodes the error passed through, grouped by instance level
    (a new level begins at each keyword that descends into the instance)."""
    node: Any = root if part is None else root["$defs"][part]
    levels: list[list[dict[str, Any]]] = [[node]]
    steps = list(schema_path)
    i = 0
    while i < len(steps):
        key = steps[i]
        if not isinstance(node, dict):
            break
        if key not in node and "$ref" in node:  # jsonschema leaves $ref out of the path
            node = _resolve(root, node["$ref"])
            levels[-1].append(node)
            continue
        if key in _INSTANCE_STEPS and i + 1 < len(steps):
            sub = node[key]
            if key in ("properties", "patternProperties", "prefixItems"):
                node = sub[steps[i + 1]]
                i += 2
            else:
                node = sub
                i += 1
            levels.append([node] if isinstance(node, dict) else [])
            continue
        if key in ("allOf", "anyOf", "oneOf") and i + 1 < len(steps):
            node = node[key][steps[i + 1]]
            i += 2
        elif key in ("then", "else", "not", "if") and i + 1 < len(steps):
            node = node[key]
            i += 1
        else:
            break  # the failing keyword itself
        if isinstance(node, dict):
            levels[-1].append(node)
    return levels


def _template(node: dict[str, Any], keyword: str, missing: str | None) -> str | None:
    msgs = node.get("x-messages") or {}
    t = msgs.get(keyword)
    if isinstance(t, dict):
        t = t.get(missing or "")
    return t if t is not None else msgs.get("*")


def _problem(error: Any, root: dict[str, Any], part: str | None, data: Any) -> SchemaProblem:
    path = list(error.absolute_path)
    keyword = error.validator
    missing = extra = None
    if keyword == "required":
        missing = next((k for k in error.validator_value if k not in error.instance), None)
    elif keyword == "additionalProperties":
        props = error.schema.get("properties", {})
        extra = next((k for k in error.instance if k not in props), None)
    elif keyword == "propertyNames":  # the error is on the object; its cause names the key
        cause = next(iter(error.context), None)
        key = cause.instance if cause is not None else "?"
        t = _template(error.schema.get("propertyNames", {}), "pattern", None)
        return SchemaProblem(t or f"the key {short(key)} is not allowed here", (*path, key))
    levels = _levels(root, part, error.absolute_schema_path)[: len(path) + 1]
    # the deepest instance level with a message; at a level, the outermost node
    message, level = None, len(levels) - 1
    while level >= 0 and message is None:
        kw = keyword if level == len(levels) - 1 else "*"
        message = next((m for m in (_template(n, kw, missing) for n in levels[level]) if m is not None), None)
        if message is None:
            level -= 1
    if message is None:
        text = _generic(error, path, missing, extra)
        return SchemaProblem(text, (*path, extra) if extra is not None else tuple(path))
    own_level = level == len(levels) - 1
    del path[level:]
    instance = data
    for k in path:
        instance = instance[k]
    key = path[-1] if path else None
    text = message.format(key=key, value=_Short(instance), kind=kind(instance), extra=extra, missing=missing)
    if keyword == "additionalProperties" and extra is not None and own_level:
        path.append(extra)
    return SchemaProblem(text, tuple(path))


def _generic(error: Any, path: list[Any], missing: str | None, extra: str | None) -> str:
    if str(error.validator).startswith("x-"):
        return str(error.message)
    if missing is not None:
        return f"no {missing!r}"
    if extra is not None:
        return f"unknown key {extra!r}"
    key = path[-1] if path else None
    what = f"{key!r}" if isinstance(key, str) else "the value"
    if error.validator == "type":
        types = error.validator_value if isinstance(error.validator_value, list) else [error.validator_value]
        return f"{what} must be {' or '.join(_a(t) for t in types)}, not {kind(error.instance)}"
    return f"{what}: {error.message if len(error.message) < 120 else error.message[:117] + '...'}"


def _a(t: str) -> str:
    return {"object": "an object", "array": "a list", "integer": "an integer"}.get(t, f"a {t}")


# ------------------------------------------------- other files' schemas (tasks, sweeps)

_TYPE_NAMES = {"object": "an object", "array": "a list", "integer": "an integer", "null": "null"}


def plain_problem(
    schema_doc: dict[str, Any], data: Any, special: Any = None
) -> tuple[str, tuple[Any, ...]] | None:
    """The first problem of ``data`` against ``schema_doc`` (a Draft 2020-12
    schema without ``x-messages``: a ``*.train.json`` task's, a sweep spec's)
    as one line and the JSON path it is at; None when it fits.

    jsonschema's ``best_match`` picks the error; ``special(error)``, when
    given, may word it first (a str) or leave it (None) to the generic wording
    by keyword (required, additionalProperties, type, const, enum, minimum,
    minItems, minLength, pattern; anything else: jsonschema's message, cut).
    """
    from jsonschema import Draft202012Validator
    from jsonschema.exceptions import best_match

    error = best_match(Draft202012Validator(schema_doc).iter_errors(data))
    if error is None:
        return None
    path = tuple(error.absolute_path)
    if special is not None:
        said = special(error)
        if said is not None:
            return said, path
    key = path[-1] if path and isinstance(path[-1], str) else None
    what = repr(key) if key else "the value"
    v, want, x = error.validator, error.validator_value, error.instance
    if v == "required":
        return f"no {next(k for k in want if k not in x)!r}", path
    if v == "additionalProperties" and error.schema.get("properties") is not None:
        props = error.schema["properties"]
        extra = next(k for k in x if k not in props)
        return f"unknown key {extra!r} (one of {', '.join(sorted(props))})", (*path, extra)
    if v == "type":
        types = want if isinstance(want, list) else [want]
        wanted = " or ".join(_TYPE_NAMES.get(t, f"a {t}") for t in types)
        return f"{what} must be {wanted}, not {kind(x)} ({short(x)})", path
    if v == "const":
        return f"{what} must be {want!r}, not {short(x)}", path
    if v == "enum":
        return f"{what} must be one of {', '.join(map(repr, want))}, not {short(x)}", path
    if v in ("minimum", "exclusiveMinimum"):
        return f"{what} must be {'>=' if v == 'minimum' else '>'} {want}, not {short(x)}", path
    if v == "minItems":
        return f"{what} must not be empty", path
    if v == "minLength":
        return f"{what} must not be an empty string", path
    if v == "pattern":
        return f"{short(x)} is not {error.schema.get('description', want)}", path
    return f"{what}: {error.message[:117]}", path
