"""Shared fixtures: a rules-only classifier (fast, no model needed) and a tiny trained model."""

from __future__ import annotations

from pathlib import Path

import pytest

from classifiers import Classifier, load_classifier


@pytest.fixture(scope="session")
def rules_only() -> Classifier:
    return load_classifier(model_dir=Path("/nonexistent/classifier-model"))


@pytest.fixture(scope="session")
def trained() -> Classifier:
    """The shipped model as `make` builds it (`complaint-gateway train --if-changed`)."""
    classifier = load_classifier()
    assert classifier.status["model"] == "loaded", classifier.status
    return classifier
