"""Validation of a user context dict and its encoding by the C SDK.

Types and structure are checked here and raise TypeError. Missing or out-of-range values
raise ValueError: some are checked here, and the byte limits, key syntax and record size
are checked by the C SDK, whose error text is reworded to name the field as in Python.
"""

from __future__ import annotations

import ctypes
import math
import re
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

from . import _library

FIELDS = ("user_id", "email", "attrs")
# Integers beyond 2**53 have no exact double, and the record stores numbers as doubles.
MAX_EXACT_INTEGER = 2**53


class UserContext:
    """A validated context and its encoded record, which a thread slot can point at."""

    __slots__ = ("data", "record", "address")

    def __init__(self, data: Mapping[str, Any], record: ctypes.Array | None):
        self.data = data
        self.record = record
        self.address = ctypes.addressof(record) if record is not None else None


def _encode_text(function: str, field: str, value: Any) -> bytes:
    if not isinstance(value, str):
        raise TypeError(f"{function}: {field} must be a str, got {type(value).__name__}")
    try:
        return value.encode("utf-8")
    except UnicodeEncodeError as error:
        raise ValueError(f"{function}: {field} is not valid Unicode: {error.reason} at index {error.start}") from None


def _check_attr_value(function: str, field: str, value: Any) -> tuple[int, Any]:
    """Return the C attribute type and value of an attribute, or raise."""
    if isinstance(value, bool):
        return _library.ATTR_BOOL, int(value)
    if isinstance(value, int):
        if abs(value) > MAX_EXACT_INTEGER:
            raise ValueError(f"{function}: {field} is {value}, which a double cannot hold exactly: use a str or a value within ±2**53")
        return _library.ATTR_NUMBER, float(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"{function}: {field} is {value}: numbers must be finite")
        return _library.ATTR_NUMBER, value
    if isinstance(value, str):
        return _library.ATTR_STRING, _encode_text(function, field, value)
    nested = " (attrs must be flat: no nested dicts or lists)" if isinstance(value, (Mapping, list, tuple, set)) else ""
    raise TypeError(f"{function}: {field} must be a str, int, float or bool, got {type(value).__name__}{nested}")


def _python_field_names(message: str, keys: list[str]) -> str:
    """Reword the C SDK's field names: user_id as ctx['user_id'], attrs[2].value.string as ctx['attrs']['plan']."""
    message = re.sub(r"^(user_id|email)\b", lambda match: f"ctx[{match[1]!r}]", message)
    message = re.sub(r"^attr_count is (\d+)", r"ctx['attrs'] has \1 keys", message)
    message = re.sub(
        r"^attrs\[(\d+)\]\.value\.(?:string|number)", lambda match: f"ctx['attrs'][{keys[int(match[1])]!r}]", message
    )
    return re.sub(r"^attrs\[(\d+)\]\.key", "ctx['attrs'] key", message)


class _ContextArguments:
    """ctypes arguments of one context. Keeps the byte strings alive while C reads them."""

    def __init__(self, function: str, ctx: Any):
        if not isinstance(ctx, Mapping):
            raise TypeError(f"{function}: ctx must be a dict like {{'user_id': ..., 'email': ..., 'attrs': {{...}}}}, got {type(ctx).__name__}")
        for field in ctx:
            if field not in FIELDS:
                raise TypeError(f"{function}: ctx[{field!r}] is not a context field: use 'user_id', 'email' and 'attrs'")
        user_id = ctx.get("user_id")
        if user_id is None:
            raise ValueError(f"{function}: ctx['user_id'] is missing: every context needs a user id")
        user_id_bytes = _encode_text(function, "ctx['user_id']", user_id)
        if not user_id_bytes:
            raise ValueError(f"{function}: ctx['user_id'] is empty: every context needs a user id")
        email = ctx.get("email")
        email_bytes = None if email is None else _encode_text(function, "ctx['email']", email)
        attrs = ctx.get("attrs")
        if attrs is None:
            attrs = {}
        if not isinstance(attrs, Mapping):
            raise TypeError(f"{function}: ctx['attrs'] must be a dict of str, int, float and bool values, got {type(attrs).__name__}")

        self.keys: list[str] = []
        self.attrs = (_library.Attr * max(len(attrs), 1))()
        checked: dict[str, Any] = {}
        for index, (key, value) in enumerate(attrs.items()):
            field = f"ctx['attrs'][{key!r}]"
            key_bytes = _encode_text(function, f"{field} key", key)
            attr_type, c_value = _check_attr_value(function, field, value)
            attr = self.attrs[index]
            attr.key = key_bytes
            attr.type = attr_type
            if attr_type == _library.ATTR_STRING:
                attr.value.string = c_value
            elif attr_type == _library.ATTR_NUMBER:
                attr.value.number = c_value
            else:
                attr.value.boolean = c_value
            self.keys.append(key)
            checked[key] = value
        self.struct = _library.UserContextStruct(user_id_bytes, email_bytes, self.attrs, len(attrs))
        self.data: dict[str, Any] = {"user_id": user_id}
        if email is not None:
            self.data["email"] = email
        if checked:
            self.data["attrs"] = MappingProxyType(checked)

    def raise_status(self, function: str, status: int) -> None:
        text = _library.library().jamjet_last_error().decode("utf-8", "replace")
        name = _library.STATUS_NAMES.get(status, f"status {status}")
        raise ValueError(f"{function}: {_python_field_names(text, self.keys)} ({name})")


def create_context(function: str, ctx: Any) -> UserContext:
    """Validate ctx and encode it into a record. Raises TypeError or ValueError naming the field."""
    arguments = _ContextArguments(function, ctx)
    record = _library.Record()
    status = _library.library().jamjet_record_encode(ctypes.byref(arguments.struct), record)
    if status != 0:
        arguments.raise_status(function, status)
    return UserContext(MappingProxyType(arguments.data), record)


def set_process_context(function: str, ctx: Any) -> None:
    """Validate ctx and make it the process record, or clear the process record when ctx is None."""
    library = _library.library()
    if ctx is None:
        library.jamjet_set_process_context(None)
        return
    arguments = _ContextArguments(function, ctx)
    status = library.jamjet_set_process_context(ctypes.byref(arguments.struct))
    if status != 0:
        arguments.raise_status(function, status)
