"""The classifier the gateway calls: `load_classifier()` then `classify(item)`.

One object holds the taxonomy, the compiled rules, the entity extractor and (when present)
the learned model. It never raises on input: whatever the text, a decision comes back. A
missing or corrupt model leaves it running on rules only, and `status` says so.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from spacy.language import Language
from spacy.tokens import Doc, Token

from classifiers.decision import Decider, Evidence, load_decision_config
from classifiers.entities import EntityExtractor, EntityPatterns
from classifiers.inputs import ClassifierInput
from classifiers.model import (
    CHANNEL_MARKER,
    DEFAULT_MODEL_DIR,
    ModelError,
    TextModel,
    flag_thresholds,
    log_status,
    model_text,
)
from classifiers.rules import CompiledRules, RuleSet
from classifiers.structure import analyse, received_day
from classifiers.taxonomy import DEFAULT_RULES, Taxonomy, load_taxonomy
from classifiers.text import detect_language
from classifiers.tokenizer import blank_pipeline
from storage.records import Classification

log = logging.getLogger(__name__)


class Classifier:
    """Validity, severity, flags, department and entities for one complaint at a time."""

    def __init__(
        self,
        taxonomy: Taxonomy,
        rules: RuleSet,
        model: TextModel | None,
        model_status: str,
        decision_config: dict[str, Any],
    ) -> None:
        self.taxonomy = taxonomy
        self.model = model
        self._model_status = model_status
        self.nlp: Language = model.nlp if model else blank_pipeline()
        self.rules: CompiledRules = rules.compile(self.nlp)
        self.extractor = EntityExtractor(
            EntityPatterns.from_config(taxonomy.entities), tuple(taxonomy.scope.own_brands)
        )
        self._extended = re.compile(taxonomy.entities.get("extended_warranty", r"(?!x)x"), re.I)
        self.decider = Decider(taxonomy, with_flag_thresholds(decision_config, model))
        # Strings the model saw in training; docs made later add theirs to the vocab, so snapshot.
        self._known: frozenset[str] = frozenset(self.nlp.vocab.strings) if model else frozenset()

    def known_tokens(self, doc: Doc, channel: str | None = None) -> int:
        """How many of the doc's content tokens the model has seen: its evidence, not its bias.

        A bag-of-words model scores text made of unseen words near its bias, which for
        the multi-label flags sits near the flag threshold; without this count, gibberish
        or a lone "嗯" would come out major with every flag. The channel marker every text
        carries is not evidence, so it is not counted.
        """
        return self._known_count(content_tokens(doc, channel))

    def _known_count(self, tokens: Sequence[Token]) -> int:
        known = self._known
        return sum(1 for token in tokens if token.lower_ in known)

    @property
    def status(self) -> dict[str, str]:
        return {
            "model": self._model_status,
            "rules_version": self.rules.version,
            "model_version": self.model.version if self.model else "",
        }

    def classify(self, item: ClassifierInput) -> Classification:
        return self.classify_many([item])[0]

    def classify_many(self, items: Iterable[ClassifierInput]) -> list[Classification]:
        """Decisions in input order; a record that fails for any reason gets a review decision."""
        batch = list(items)
        texts = [model_text(item) for item in batch]
        docs = [self.nlp.make_doc(text) for text in texts]
        cats: Sequence[dict[str, float] | None] = [None] * len(batch)
        if self.model is not None:
            try:
                cats = self.model.predict(docs)
            except Exception:  # a broken model must not stop intake
                log.exception("model prediction failed; using rules only for this batch")
        return [
            self._decide(item, doc, cat) for item, doc, cat in zip(batch, docs, cats, strict=True)
        ]

    def _decide(
        self, item: ClassifierInput, doc: Doc, cats: dict[str, float] | None
    ) -> Classification:
        try:
            raw = "\n".join(part for part in (item.subject, item.text) if part)
            entities = self.extractor.extract(raw, received_day(item))
            extended = bool(self._extended.search(doc.text))
            content = content_tokens(doc, item.channel)
            evidence = Evidence(
                structure=analyse(item, entities, self.taxonomy, extended),
                rules=self.rules.apply(doc),
                cats=cats,
                known_tokens=self._known_count(content),
                content_tokens=len(content),
                has_identifiers=bool(entities.model or entities.order_number or entities.serial),
            )
            outcome = self.decider.decide(evidence)
            found = entities.as_dict()
            found["language"] = detect_language(raw)
            return Classification(
                validity=outcome.validity,
                reason=outcome.reason,
                severity=outcome.severity,
                flags=outcome.flags,
                department=outcome.department,
                confidence=outcome.confidence,
                needs_review=self.decider.needs_review(outcome) or self.model is None,
                explanation=outcome.explanation,
                entities=found,
                rules_version=self.rules.version,
                model_version=self.model.version if self.model else "",
            )
        except Exception as error:  # never lose a record over a classifier bug
            log.exception("classification failed for %s", item.id)
            return Classification(
                validity="valid",
                severity="general",
                needs_review=True,
                explanation=[f"classifier error: {type(error).__name__}; needs a person"],
                rules_version=self.rules.version,
                model_version=self.model.version if self.model else "",
            )


def content_tokens(doc: Doc, channel: str | None) -> list[Token]:
    """Tokens that carry letters (a Han character, a word), without the channel marker."""
    tokens = list(doc)
    if channel and tokens and tokens[0].text == f"{CHANNEL_MARKER}{channel}".lower():
        tokens = tokens[1:]
    return [t for t in tokens if t.is_alpha or (not t.is_punct and _has_letter(t.text))]


def _has_letter(text: str) -> bool:
    return any(char.isalpha() for char in text)


def with_flag_thresholds(config: dict[str, Any], model: TextModel | None) -> dict[str, Any]:
    """The decision config with the model's calibrated per-flag thresholds filled in, unless
    the config names its own `flags.model_thresholds`."""
    thresholds = flag_thresholds(model.meta if model else None)
    flags = dict(config.get("flags") or {})
    if not thresholds or flags.get("model_thresholds"):
        return config
    flags["model_thresholds"] = thresholds
    return {**config, "flags": flags}


def load_classifier(
    config_path: Path | None = None, model_dir: Path | None = None, rules_path: Path | None = None
) -> Classifier:
    """Build a classifier from a taxonomy file (rules.yaml and decision.yaml beside it, when
    present, override the shipped ones) and a model directory (default: the package's);
    `rules_path` names a rules file outright (a versioned one the admin side wrote)."""
    taxonomy = load_taxonomy(config_path)
    config_dir = config_path.parent if config_path else None
    rules_path = rules_path or (
        config_dir / "rules.yaml"
        if config_dir and (config_dir / "rules.yaml").is_file()
        else DEFAULT_RULES
    )
    decision_path = (
        config_dir / "decision.yaml"
        if config_dir and (config_dir / "decision.yaml").is_file()
        else None
    )
    rules = RuleSet.load(rules_path, taxonomy)
    model: TextModel | None = None
    try:
        model = TextModel.load(model_dir or DEFAULT_MODEL_DIR)
        status = "loaded"
    except ModelError as error:
        status = str(error)
    log_status(status)
    return Classifier(taxonomy, rules, model, status, load_decision_config(decision_path))
