"""Complaint classification: validity, severity and flags, department, entities (SPEC §4).

Depends only on `storage.records` and third-party libraries. The gateway calls:

    clf = load_classifier()                 # shipped taxonomy + rules, model in classifiers/model/
    decision = clf.classify(ClassifierInput(text=..., channel="email", complainant={...}))
"""

from classifiers.classifier import Classifier, load_classifier
from classifiers.inputs import ClassifierInput

__all__ = ["Classifier", "ClassifierInput", "load_classifier"]
