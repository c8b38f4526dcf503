"""HTML forms generated from a channel kind's pydantic settings model, and read back.

Each field becomes one input chosen by its type (checkbox, number, text, one-per-line
list, a select for a `Literal`/`Enum`, a group of checkboxes for a list of those, JSON for
anything nested). Fields that hold secrets take only references
(`env:NAME`, `file:/path`): the kind's own validators refuse a literal secret.
"""

from __future__ import annotations

import json
import types
import typing
from dataclasses import dataclass
from enum import Enum
from typing import Any

from pydantic import BaseModel
from pydantic.fields import FieldInfo

SECRET_WORDS = ("password", "secret", "token", "api_key", "auth")


@dataclass(frozen=True)
class FormField:
    name: str
    widget: str  # checkbox, number, text, lines, json, secret, select, multi
    required: bool
    help: str
    value: str
    checked: bool = False
    choices: tuple[str, ...] = ()  # the allowed values of a select or multi
    selected: tuple[str, ...] = ()  # the ones a multi has on


def _optional(annotation: Any) -> bool:
    return typing.get_origin(annotation) in (typing.Union, types.UnionType) and type(
        None
    ) in typing.get_args(annotation)


def choices_of(annotation: Any) -> tuple[str, ...]:
    """The allowed values of a `Literal[...]` or an `Enum` (possibly `| None`); () otherwise."""
    kind = _base(annotation)
    if typing.get_origin(kind) is typing.Literal:
        return tuple(str(v.value if isinstance(v, Enum) else v) for v in typing.get_args(kind))
    if isinstance(kind, type) and issubclass(kind, Enum):
        return tuple(str(member.value) for member in kind)
    return ()


def _item_choices(annotation: Any) -> tuple[str, ...]:
    """For `list[Literal[...]]` (or set/tuple of one): the item's allowed values."""
    kind = _base(annotation)
    args = typing.get_args(kind)
    if typing.get_origin(kind) in (list, set, tuple) and len(args) == 1:
        return choices_of(args[0])
    return ()


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
    if choices_of(kind):
        return "select"
    if _item_choices(kind):
        return "multi"
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
    if isinstance(value, Enum):
        return str(value.value)
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
                value=_shown(widget, value) if widget != "multi" else "",
                checked=bool(value) if widget == "checkbox" else False,
                choices=_choices(widget, info),
                selected=tuple(_shown("text", v) for v in value or ()) if widget == "multi" else (),
            )
        )
    return fields


def _choices(widget: str, info: FieldInfo) -> tuple[str, ...]:
    if widget == "select":
        # An optional one may be left unset: the empty choice first.
        unset = ("",) if _optional(info.annotation) or not info.is_required() else ()
        return unset + choices_of(info.annotation)
    if widget == "multi":
        return _item_choices(info.annotation)
    return ()


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
        if widget == "multi":
            if form.get(f"{key}__present") == "1":  # unchecked boxes send nothing
                allowed = _item_choices(info.annotation)
                picked = [str(v) for v in form.getall(key, [])]
                _check_choices(name, picked, allowed)
                out[name] = picked
            continue
        raw = str(form.get(key, "")).strip()
        if not raw:
            continue
        if widget == "select":
            _check_choices(name, [raw], choices_of(info.annotation))
            out[name] = raw
        elif widget == "lines":
            out[name] = [line.strip() for line in raw.splitlines() if line.strip()]
        elif widget == "json":
            try:
                out[name] = json.loads(raw)
            except json.JSONDecodeError as error:
                raise FormError(f"{name}: not valid JSON ({error})") from error
        else:
            out[name] = raw
    return out


def _check_choices(name: str, values: list[str], allowed: tuple[str, ...]) -> None:
    wrong = [v for v in values if v not in allowed]
    if wrong:
        raise FormError(f"{name}: {', '.join(wrong)} is not one of {', '.join(allowed)}")
