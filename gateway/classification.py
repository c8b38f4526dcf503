"""The pipeline's classify step: a draft record in, a `Classification` out."""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Any

from classifiers import Classifier, ClassifierInput, load_classifier
from classifiers.rule_overlay import RuleStore
from classifiers.versions import ModelStore
from storage.records import Classification, ComplaintDraft

log = logging.getLogger(__name__)
INCOMPLETE_HINT = "incomplete"  # a channel read the input only in part
# Hints that hold a record for a person: a scan OCR was unsure of, a contact it could not read.
REVIEW_HINTS = frozenset({INCOMPLETE_HINT, "ocr_low_confidence", "contact_unreadable"})


def draft_to_input(draft: ComplaintDraft) -> ClassifierInput:
    who = draft.complainant
    complainant: dict[str, Any] = {
        key: value
        for key, value in {
            "name": who.name,
            "phones": list(who.phones),
            "email": who.email,
            "handle": who.handle,
            "address": who.address,
        }.items()
        if value
    }
    return ClassifierInput(
        text=draft.body,
        subject=draft.subject,
        channel=draft.channel.value,
        complainant=complainant,
        received_at=draft.received_at,
        hints=list(draft.hints),
    )


class ClassifyStep:
    """Holds the loaded classifier; a missing model leaves the rules working.

    With a `data_dir`, the model version and rules version promoted there (see
    `classifiers.versions`, `classifiers.rule_overlay`) are used and re-read when their
    pointer changes, checked at most every `poll_seconds`: a promotion needs no restart.
    """

    def __init__(
        self,
        config_path: Path | None = None,
        model_dir: Path | None = None,
        *,
        data_dir: Path | None = None,
        poll_seconds: float = 2.0,
    ) -> None:
        self.config_path, self.model_dir, self.poll_seconds = config_path, model_dir, poll_seconds
        self.models = ModelStore(data_dir / "models") if data_dir else None
        self.rule_store = RuleStore(data_dir / "rules") if data_dir else None
        self._stamp = self._pointers()
        self._checked = time.monotonic()
        self.classifier: Classifier = self.build()
        log.info("classifier loaded", extra={"status": self.status})

    def build(self, model_dir: Path | None = None) -> Classifier:
        """A classifier with the active rules and `model_dir` (default: the active model)."""
        active = self.models.active_dir() if self.models else None
        rules = self.rule_store.active_path() if self.rule_store else None
        return load_classifier(self.config_path, model_dir or active or self.model_dir, rules)

    def _pointers(self) -> tuple[object, ...]:
        return (
            self.models.stamp() if self.models else None,
            self.rule_store.stamp() if self.rule_store else None,
        )

    def refresh(self, *, force: bool = False) -> bool:
        """Reload when a version was promoted or rolled back; True when it did."""
        now = time.monotonic()
        if not force and now - self._checked < self.poll_seconds:
            return False
        self._checked = now
        stamp = self._pointers()
        if stamp == self._stamp and not force:
            return False
        self._stamp = stamp
        self.classifier = self.build()
        log.info("classifier reloaded", extra={"status": self.status})
        return True

    @property
    def status(self) -> dict[str, Any]:
        return dict(self.classifier.status)

    def __call__(self, draft: ComplaintDraft) -> Classification:
        if self.models is not None:
            self.refresh()
        return _held_for_review(draft, self.classifier.classify(draft_to_input(draft)))

    def many(self, drafts: list[ComplaintDraft]) -> list[Classification]:
        """Decisions for several drafts in one model pass (a processing batch)."""
        if self.models is not None:
            self.refresh()
        decisions = self.classifier.classify_many([draft_to_input(d) for d in drafts])
        return [_held_for_review(d, c) for d, c in zip(drafts, decisions, strict=True)]


def _held_for_review(draft: ComplaintDraft, decision: Classification) -> Classification:
    """A decision flagged for review when the channel could read the input only in part."""
    held = sorted(REVIEW_HINTS.intersection(draft.hints))
    if held and not decision.needs_review:
        # The channel could read the input only in part: a person must look at it.
        note = "input only partly readable" if held == [INCOMPLETE_HINT] else ", ".join(held)
        decision = decision.model_copy(
            update={
                "needs_review": True,
                "explanation": [*decision.explanation, f"review: {note}"],
            }
        )
    return decision
