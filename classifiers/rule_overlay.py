"""Rules a supervisor accepted, layered on the shipped `rules.yaml` as numbered versions.

Each version is a complete rules file `<root>/<version>.yaml` (shipped rules plus every
accepted addition) beside `<root>/<version>.additions.json`; the `ACTIVE` pointer names the
live one, so a running classifier picks it up without a restart and a rollback is one
pointer change. A version is written only after it loads and compiles, so a phrase or
pattern that does not compile never reaches the classifier.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import yaml

from classifiers.rules import RuleSet
from classifiers.taxonomy import DEFAULT_RULES, Taxonomy
from classifiers.tokenizer import blank_pipeline
from classifiers.versions import PointerStore, write_atomic

SECTIONS = ("flags", "validity", "severity", "departments", "signals")
MAX_PHRASE = 100


class RuleError(ValueError):
    """An addition names an unknown group, or its phrase or pattern does not compile."""


def check_addition(base: dict[str, Any], item: dict[str, Any]) -> dict[str, Any]:
    """One addition `{group, weight, zh|en: [phrases] | regex}`, normalised; RuleError if bad."""
    group = str(item.get("group", ""))
    section, _, name = group.partition(".")
    if section not in SECTIONS or name not in (base.get(section) or {}):
        raise RuleError(f"unknown rule group {group!r} (e.g. departments.logistics)")
    weight = float(item.get("weight", 0.5))
    if not 0 < weight <= 1:
        raise RuleError(f"weight must be in (0, 1], got {weight}")
    out: dict[str, Any] = {"group": group, "weight": weight}
    regex = item.get("regex")
    if regex:
        try:
            re.compile(str(regex))
        except re.error as error:
            raise RuleError(f"pattern {regex!r} does not compile: {error}") from error
        out["regex"] = str(regex)
    for lang in ("zh", "en"):
        phrases = [str(p).strip() for p in item.get(lang) or [] if str(p).strip()]
        for phrase in phrases:
            if len(phrase) > MAX_PHRASE or phrase.count("{") != phrase.count("}"):
                raise RuleError(f"phrase {phrase!r} is too long or has unbalanced braces")
        if phrases:
            out[lang] = phrases
    if not regex and not out.get("zh") and not out.get("en"):
        raise RuleError("an addition needs at least one phrase or a pattern")
    return out


def merged(
    base: dict[str, Any], additions: Sequence[dict[str, Any]], version: str
) -> dict[str, Any]:
    rules = copy.deepcopy(base)
    rules["version"] = version
    for item in additions:
        section, _, name = item["group"].partition(".")
        group = rules[section][name] = dict(rules[section][name] or {})
        if item.get("regex"):
            group["patterns"] = [
                *(group.get("patterns") or []),
                {"weight": item["weight"], "regex": item["regex"]},
            ]
        tier = {lang: item[lang] for lang in ("zh", "en") if item.get(lang)}
        if tier:
            group["phrases"] = [*(group.get("phrases") or []), {"weight": item["weight"], **tier}]
    return rules


class RuleStore(PointerStore):
    """Versioned rule files; the active one replaces the shipped rules."""

    def __init__(self, root: Path, base_path: Path = DEFAULT_RULES) -> None:
        super().__init__(root)
        self.base_path = base_path

    def base(self) -> dict[str, Any]:
        with self.base_path.open(encoding="utf-8") as handle:
            return dict(yaml.safe_load(handle))

    def active_path(self) -> Path | None:
        version = self.active()
        if not version or version == self.base_version():
            return None
        path = self.root / f"{version}.yaml"
        return path if path.is_file() else None

    def base_version(self) -> str:
        return str(self.base().get("version", "rules"))

    def additions(self, version: str | None = None) -> list[dict[str, Any]]:
        version = version or self.active()
        if not version:
            return []
        try:
            text = (self.root / f"{version}.additions.json").read_text(encoding="utf-8")
        except OSError:
            return []
        return list(json.loads(text))

    def versions(self) -> list[str]:
        found = sorted(
            (p.name.removesuffix(".additions.json") for p in self.root.glob("*.additions.json")),
            key=lambda v: int(v.rsplit(".", 1)[-1]) if v.rsplit(".", 1)[-1].isdigit() else 0,
        )
        return [self.base_version(), *found]

    def publish(
        self, additions: Sequence[dict[str, Any]], taxonomy: Taxonomy, *, actor: str, note: str
    ) -> str:
        """Write and activate a new version holding `additions`; RuleError leaves all as it was."""
        base = self.base()
        checked = [check_addition(base, item) for item in additions]
        number = len(self.versions())
        version = f"{base.get('version', 'rules')}+local.{number}"
        document = merged(base, checked, version)
        self.root.mkdir(parents=True, exist_ok=True)
        staging = self.root / f".{version}.check.yaml"
        staging.write_text(yaml.safe_dump(document, allow_unicode=True), encoding="utf-8")
        try:
            RuleSet.load(staging, taxonomy).compile(blank_pipeline())
        except Exception as error:  # any failure to load means the file must not go live
            raise RuleError(f"the rules do not compile: {error}") from error
        finally:
            staging.unlink(missing_ok=True)
        write_atomic(self.root / f"{version}.yaml", yaml.safe_dump(document, allow_unicode=True))
        write_atomic(
            self.root / f"{version}.additions.json", json.dumps(checked, ensure_ascii=False)
        )
        self.point_to(version, actor=actor, action="publish", note=note)
        return version

    def activate(self, version: str, *, actor: str) -> None:
        """Roll back (or forward) to a published version, or to the shipped rules."""
        if version != self.base_version() and not (self.root / f"{version}.yaml").is_file():
            raise RuleError(f"no rules version {version!r}")
        self.point_to(version, actor=actor, action="activate")
