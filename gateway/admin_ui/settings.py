"""Settings of the admin side: sign-in limits and retraining (`admin:` in the config file)."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, Field


class RetrainSettings(BaseModel):
    """How a new model version is built and when it may go live."""

    margin: float = Field(
        default=0.02, ge=0, le=1, description="largest F1 drop of any label still promoted"
    )
    min_corrections: int = Field(default=10, ge=1, description="fewer corrections: no retrain")
    holdout_every: int = Field(
        default=4, ge=2, description="every n-th correction (by reference hash) is held out"
    )
    correction_weight: int = Field(
        default=1,
        ge=1,
        le=20,
        description="copies of each correction (the extra ones teach only the changed labels)",
    )
    finetune_epochs: int = Field(
        default=6, ge=1, le=20, description="passes when updating the baseline on corrections"
    )
    replay: float = Field(
        default=6.0,
        ge=0,
        le=100,
        description="corpus examples replayed beside the corrections, per correction example",
    )
    finetune_batch_size: int = Field(
        default=0,
        ge=0,
        description="examples per update step of the fine-tune (0: the whole set, one step a pass)",
    )
    finetune_learn_rate: float = Field(
        default=0.002, gt=0, le=0.1, description="learning rate of the fine-tune"
    )
    hard_negatives: float = Field(
        default=0.0,
        ge=0,
        le=1,
        description="share of the other labels' replay picked for sharing the corrections' words",
    )
    regression_fraction: float = Field(
        default=0.15, gt=0, lt=0.5, description="share of the shipped corpus kept for regression"
    )
    schedule_hours: float = Field(
        default=0, ge=0, description="retrain every N hours when new corrections exist (0: off)"
    )
    train_dirs: list[Path] | None = Field(
        default=None, description="the shipped corpus folders (default classifiers/data/train …)"
    )
    epochs: int | None = Field(default=None, ge=1, description="override model.yaml's epochs")


class AdminSettings(BaseModel):
    session_idle_minutes: float = 60.0
    session_hours: float = 12.0
    login_max_failures: int = Field(default=5, ge=1)
    lock_minutes: float = 15.0
    login_attempts_per_minute: int = Field(
        default=20, ge=1, description="per client address, then 429"
    )
    client_keys_are_admin: bool = Field(
        default=True,
        description="API client keys (apikeys add) may use /api/v1/admin/ with the admin role",
    )
    page_size: int = Field(default=50, ge=5, le=500)
    retrain: RetrainSettings = Field(default_factory=RetrainSettings)
