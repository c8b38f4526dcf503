"""Secrets are configured by reference only: `env:NAME` or `file:/path`.

The reference may be shown and stored; the value it resolves to is never
logged, printed or returned by the API.
"""

from __future__ import annotations

import os
from pathlib import Path


class SecretError(ValueError):
    """A secret reference that is malformed or points at nothing."""


def validate_reference(ref: str) -> str:
    scheme, _, target = ref.partition(":")
    if scheme not in ("env", "file") or not target:
        raise SecretError(f"secret reference must be env:NAME or file:/path, got {ref!r}")
    return ref


def resolve_secret(ref: str) -> str:
    """The secret value behind `ref`; raises SecretError when it cannot be read."""
    scheme, _, target = validate_reference(ref).partition(":")
    if scheme == "env":
        value = os.environ.get(target)
        if value is None:
            raise SecretError(f"environment variable {target} is not set")
        return value
    try:
        return Path(target).read_text(encoding="utf-8").strip()
    except OSError as exc:
        raise SecretError(f"secret file {target} cannot be read: {exc.strerror}") from exc
