"""The deployment's taxonomy: departments, reasons, severities, flags, scope, entity patterns.

Loaded from YAML (`config/taxonomy.yaml` ships the demo company of SPEC §10), so a deployment
adds or renames a department by editing configuration, not code.
"""

from __future__ import annotations

from pathlib import Path

import yaml
from pydantic import BaseModel, Field

CONFIG_DIR = Path(__file__).parent / "config"
DEFAULT_TAXONOMY = CONFIG_DIR / "taxonomy.yaml"
DEFAULT_RULES = CONFIG_DIR / "rules.yaml"


class Company(BaseModel):
    name: str
    name_zh: str = ""
    warranty_years: int = 3
    complaint_window_months: int = 12


class Department(BaseModel):
    label: str = ""
    description: str = ""


class Scope(BaseModel):
    own_brands: list[str] = Field(default_factory=list)
    product_lines: dict[str, list[str]] = Field(default_factory=dict)
    other_brands: list[str] = Field(default_factory=list)


class Taxonomy(BaseModel):
    """Everything label-shaped the classifier needs to know about one deployment."""

    company: Company
    departments: dict[str, Department]
    invalid_reasons: list[str]
    severities: list[str] = Field(default_factory=lambda: ["minor", "general", "major"])
    flags: list[str]
    minor_reasons: list[str] = Field(default_factory=lambda: ["spam", "not_a_complaint"])
    scope: Scope = Field(default_factory=Scope)
    entities: dict[str, str]

    @property
    def department_names(self) -> list[str]:
        return list(self.departments)


def load_taxonomy(path: Path | None = None) -> Taxonomy:
    """Read and validate a taxonomy file (the shipped default when `path` is None)."""
    with (path or DEFAULT_TAXONOMY).open(encoding="utf-8") as handle:
        return Taxonomy.model_validate(yaml.safe_load(handle))
