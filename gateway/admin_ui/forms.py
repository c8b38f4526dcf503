"""HTML forms generated from a channel kind's pydantic settings model, and read back.

Each field becomes one input chosen by its type (checkbox, number, text, one-per-line
list, JSON for anything nested). Fields that hold secrets take only references
(`env:NAME`, `file:/path`): the kind's own validators refuse a literal secret.
"""

from __future__ import annotations

import json
import types
import typing
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel
from pydantic.fields import FieldInfo

SECRET_WORDS = ("password", "secret", "token", "api_key", "auth")


@dataclass(frozen=True)
class FormField:
    name: str
    widget: str  # checkbox, number, text, lines, json, secret
    required: bool
    help: str
    value: str
    checked: bool = False


def _base(annotation: Any) -> Any:
    """`X | None` → X."""
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        return args[0] if len(args) == 1 else annotation
    return annotation


def _widget(name: str, info: FieldInfo) -> str:
    kind = _base(info.annotation)
    origin = typing.get_origin(kind)
    if any(word in name.lower() for word in SECRET_WORDS) and kind is str:
        return "secret"
    if kind is bool:
        return "checkbox"
    if kind in (int, float):
        return "number"
    if origin in (list, tuple, set) and all(a is str for a in typing.get_args(kind)):
        return "lines"
    if kind is str or (isinstance(kind, type) and issubclass(kind, str)):
        return "text"
    return "json"


def _shown(widget: str, value: Any) -> str:
    if value is None:
        return ""
    if widget == "lines":
        return "\n".join(str(v) for v in value)
    if widget == "json":
        return json.dumps(value, ensure_ascii=False, default=str)
    return str(value)


def form_fields(model: type[BaseModel], current: dict[str, Any] | None = None) -> list[FormField]:
    current = current or {}
    fields: list[FormField] = []
    for name, info in model.model_fields.items():
        widget = _widget(name, info)
        default = None if info.is_required() else info.get_default(call_default_factory=True)
        value = current.get(name, default)
        help_text = info.description or ""
        if widget == "secret":
            help_text = (help_text + " — env:NAME or file:/path").strip(" —")
        fields.append(
            FormField(
                name=name,
                widget=widget,
                required=info.is_required(),
                help=help_text,
                value=_shown(widget, value),
                checked=bool(value) if widget == "checkbox" else False,
            )
        )
    return fields


class FormError(ValueError):
    pass


def read_form(model: type[BaseModel], form: Any) -> dict[str, Any]:
    """Form values as a settings dict for the kind's `validate_settings`; empty means unset."""
    out: dict[str, Any] = {}
    for name, info in model.model_fields.items():
        widget = _widget(name, info)
        key = f"s_{name}"
        if widget == "checkbox":
            out[name] = form.get(key) == "on"
            continue
        raw = str(form.get(key, "")).strip()
        if not raw:
            continue
        if widget == "lines":
            out[name] = [line.strip() for line in raw.splitlines() if line.strip()]
        elif widget == "json":
            try:
                out[name] = json.loads(raw)
            except json.JSONDecodeError as error:
                raise FormError(f"{name}: not valid JSON ({error})") from error
        else:
            out[name] = raw
    return out
