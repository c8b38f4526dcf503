"""Combine structure, rules and model scores into one `Classification` with reasons.

Order of authority: structural facts first (an auto-reply is spam; no contact anywhere is
no_contact), then LABELS.md's reason order over combined scores, then flags (rules are the
safety net: a rule alone raises a flag; the model can add flags the rules missed), then
severity (major exactly when a flag is set), then the department for valid records.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from classifiers.rules import RuleResult
from classifiers.structure import Structure
from classifiers.taxonomy import CONFIG_DIR, Taxonomy

DEFAULT_DECISION = CONFIG_DIR / "decision.yaml"
# Rule groups that say nothing about what went wrong (a text with only these is contentless).
_NO_CONTENT = frozenset({"validity:spam", "validity:not_a_complaint"})
# Reasons a contentless text can have (LABELS.md 1, 2, 7).
_NO_CONTENT_REASONS = ("spam", "not_a_complaint", "not_specific")


def load_decision_config(path: Path | None = None) -> dict[str, Any]:
    with (path or DEFAULT_DECISION).open(encoding="utf-8") as handle:
        return dict(yaml.safe_load(handle))


@dataclass(frozen=True)
class Evidence:
    """Everything known about one record before deciding."""

    structure: Structure
    rules: RuleResult
    cats: dict[str, float] | None  # None: no model
    has_identifiers: bool  # a model, order or serial number was found
    known_tokens: int = 0  # content tokens of the text the model saw in training
    content_tokens: int | None = None  # letter-bearing tokens (None: not counted)


@dataclass
class Outcome:
    validity: str
    reason: str | None
    severity: str
    flags: list[str]
    department: str | None
    confidence: dict[str, float]
    explanation: list[str]


def _words(rules: RuleResult, group: str, limit: int = 4) -> str:
    return ", ".join(rules.phrases(group)[:limit])


class Decider:
    """Stateless apart from its configuration; one per classifier."""

    def __init__(self, taxonomy: Taxonomy, config: dict[str, Any]) -> None:
        self.taxonomy = taxonomy
        self.config = config

    # -- validity ---------------------------------------------------------------------------
    def _reason_scores(self, ev: Evidence) -> tuple[dict[str, float], float]:
        cfg = self.config["validity"]
        weights = cfg["rule_weights"]
        rules = ev.rules
        cats = ev.cats or {}
        reasons = [r for r in self.taxonomy.invalid_reasons if r != "no_contact"]
        scores = {reason: cats.get(f"validity:{reason}", 0.0) for reason in reasons}
        p_valid = (
            cats.get("validity:valid", cfg["rules_only_valid"])
            if ev.cats is not None
            else cfg["rules_only_valid"]
        )
        problem = min(rules.score("signal:problem"), 2.0)
        if "spam" in scores:
            scores["spam"] += weights["spam"] * min(rules.score("validity:spam"), 1.5)
        # A serious signal (a flag rule, a court case) means something went wrong: not a mere query.
        serious = any(rules.score(f"flag:{f}") >= 1.0 for f in self.taxonomy.flags) or (
            rules.score("validity:in_litigation") >= 1.0
        )
        if "not_a_complaint" in scores:
            asked = weights["not_a_complaint"] * min(rules.score("validity:not_a_complaint"), 1.5)
            scores["not_a_complaint"] += max(0.0, asked - cfg["problem_weight"] * problem)
            if serious:
                scores["not_a_complaint"] -= cfg["serious_weight"]
        if "out_of_scope" in scores:
            other = min(rules.score("scope:other_brand"), 1.0) + min(
                rules.score("validity:out_of_scope"), 1.4
            )
            own = min(rules.score("scope:own"), 1.0)
            scores["out_of_scope"] += max(
                0.0, weights["out_of_scope"] * other - cfg["own_brand_weight"] * own
            )
        if "in_litigation" in scores:
            scores["in_litigation"] += weights["in_litigation"] * min(
                rules.score("validity:in_litigation"), 1.0
            )
        if "expired" in scores and ev.structure.expired:
            scores["expired"] += cfg["expired_weight"]
        if "not_specific" in scores and ev.cats is None:
            vague = rules.score("scope:product") == 0 and not ev.has_identifiers and problem < 1.0
            scores["not_specific"] += 0.5 if vague and ev.structure.letters < 60 else 0.0
        return scores, p_valid

    def _strong(self, ev: Evidence) -> set[str]:
        """Reasons whose rule evidence is decisive on its own (not weighed against p(valid))."""
        rules = ev.rules
        strong: set[str] = set()
        serious = any(rules.score(f"flag:{f}") >= 1.0 for f in self.taxonomy.flags)
        if (
            rules.score("validity:spam") >= 1.0
            and rules.score("signal:problem") < 0.5
            and not serious
        ):
            strong.add("spam")
        if rules.score("scope:other_brand") >= 1.0 and rules.score("scope:own") == 0:
            strong.add("out_of_scope")
        if rules.score("validity:in_litigation") >= 1.0:
            strong.add("in_litigation")
        if ev.structure.expired:
            strong.add("expired")
        return strong

    def validity(self, ev: Evidence, notes: list[str]) -> tuple[str | None, float]:
        cfg = self.config["validity"]
        structure = ev.structure
        serious = any(ev.rules.score(f"flag:{f}") >= 1.0 for f in self.taxonomy.flags)
        # A channel's auto-reply header is decisive; a machine-looking subject is not when the
        # body reports a real problem (mail clients keep "Automatic reply:" on genuine replies).
        subject_only = structure.machine_mail and not structure.machine_mail.startswith(
            "auto_reply"
        )
        body_complains = serious or ev.rules.score("signal:problem") >= 1.0
        if (
            structure.machine_mail
            and not (subject_only and body_complains)
            and "spam" in self.taxonomy.invalid_reasons
        ):
            notes.append(f"validity spam: {structure.machine_mail}")
            return "spam", 0.99
        if structure.letters < cfg["min_letters"]:
            reason = "not_specific" if structure.has_contact else "no_contact"
            notes.append(f"validity {reason}: no words to investigate")
            return reason, 0.9
        if self.contentless(ev):
            reason = self._contentless_reason(ev)
            if reason == "not_specific" and not structure.has_contact:
                reason = "no_contact"
            notes.append(f"validity {reason}: {ev.content_tokens} words, no product or problem")
            return reason, 0.9
        scores, p_valid = self._reason_scores(ev)
        strong = self._strong(ev)
        chosen: str | None = None
        for reason in self.taxonomy.invalid_reasons:
            score = scores.get(reason)
            if score is None or score < cfg["reason_threshold"]:
                continue
            if reason in strong or score >= p_valid - cfg["valid_margin"]:
                chosen = reason
                break
        if chosen is not None:
            why = self._why(chosen, ev)
            score = scores[chosen]
            notes.append(f"validity {chosen}: score {score:.2f} vs valid {p_valid:.2f}{why}")
        if chosen in (None, "not_specific") and not structure.has_contact:
            notes.append(
                "validity no_contact: no phone, e-mail, handle or address in the record or text"
            )
            return "no_contact", 0.95
        if chosen is None:
            best_other = max(scores.values(), default=0.0)
            return None, round(max(p_valid, 1.0 - best_other) if ev.cats is not None else 0.5, 3)
        return chosen, round(
            min(0.99, scores[chosen] / (scores[chosen] + p_valid + 1e-9) + 0.25), 3
        )

    def contentless(self, ev: Evidence) -> bool:
        """Too few words and no rule evidence of a product, a problem or any label: "ok",
        "你好", "hello?". The model's scores on such text are its bias, not a judgement."""
        least = int(self.config["validity"].get("min_content_tokens", 0))
        if ev.content_tokens is None or ev.content_tokens >= least or ev.has_identifiers:
            return False
        return not any(
            score > 0 for group, score in ev.rules.scores.items() if group not in _NO_CONTENT
        )

    def _contentless_reason(self, ev: Evidence) -> str:
        """Spam or praise words decide; else a confident model; else nothing to investigate."""
        for reason in ("spam", "not_a_complaint"):
            if ev.rules.score(f"validity:{reason}") > 0 and reason in self.taxonomy.invalid_reasons:
                return reason
        cats = ev.cats or {}
        options = [r for r in _NO_CONTENT_REASONS if r in self.taxonomy.invalid_reasons]
        best = max(options, key=lambda r: cats.get(f"validity:{r}", 0.0), default="not_specific")
        if cats.get(f"validity:{best}", 0.0) >= self.config["validity"]["reason_threshold"]:
            return best
        return "not_specific"

    def _why(self, reason: str, ev: Evidence) -> str:
        groups = {
            "spam": ["validity:spam"],
            "not_a_complaint": ["validity:not_a_complaint"],
            "out_of_scope": ["scope:other_brand", "validity:out_of_scope"],
            "in_litigation": ["validity:in_litigation"],
        }.get(reason, [])
        words = [w for g in groups for w in ev.rules.phrases(g)][:4]
        extra = f" ({ev.structure.expired})" if reason == "expired" and ev.structure.expired else ""
        return (f"; rules: {', '.join(words)}" if words else "") + extra

    # -- flags and severity -----------------------------------------------------------------
    def flags(self, ev: Evidence, reason: str | None, notes: list[str]) -> tuple[list[str], float]:
        cfg = self.config["flags"]
        cats = ev.cats or {}
        flags: list[str] = []
        confidence = 1.0
        for flag in self.taxonomy.flags:
            rule = ev.rules.score(f"flag:{flag}")
            prob = cats.get(f"flag:{flag}", 0.0)
            if rule >= 1.0:
                flags.append(flag)
                notes.append(f"flag {flag}: rules {_words(ev.rules, f'flag:{flag}')}")
                confidence = min(confidence, 0.95)
            elif self._model_has_evidence(ev) and (
                prob >= self.flag_threshold(flag)
                or (rule >= 0.5 and prob >= cfg["weak_rule_model"])
            ):
                flags.append(flag)
                words = _words(ev.rules, f"flag:{flag}")
                notes.append(
                    f"flag {flag}: model {prob:.2f}" + (f", rules {words}" if words else "")
                )
                confidence = min(confidence, max(prob, 0.6))
        if reason == "in_litigation" and "legal" in self.taxonomy.flags and "legal" not in flags:
            flags.append("legal")
            notes.append("flag legal: the matter is already before a court or arbitration")
        if (
            not flags
            and ev.cats is not None
            and cats.get("severity:major", 0.0) >= cfg["major_backup"]
            and self._model_has_evidence(ev)
        ):
            top = max(self.taxonomy.flags, key=lambda f: cats.get(f"flag:{f}", 0.0))
            flags.append(top)
            notes.append(f"flag {top}: model says major ({cats['severity:major']:.2f})")
            confidence = cats["severity:major"]
        return flags, confidence

    def flag_threshold(self, flag: str) -> float:
        """The model-only threshold for one flag: calibrated per flag when known."""
        cfg = self.config["flags"]
        calibrated = cfg.get("model_thresholds") or {}
        return float(calibrated.get(flag, cfg["model_threshold"]))

    def _model_has_evidence(self, ev: Evidence) -> bool:
        """Enough known words that a model score means something beyond the model's bias."""
        least = int(self.config["flags"].get("min_known_tokens", 0))
        return ev.known_tokens >= least and not self.contentless(ev)

    def severity(self, ev: Evidence, flags: list[str], notes: list[str]) -> tuple[str, float]:
        if flags:
            return "major", 0.0  # confidence comes from the flags
        cfg = self.config["severity"]
        cats = ev.cats or {}
        minor_rule = min(ev.rules.score("severity:minor"), 1.0)
        problem = min(ev.rules.score("signal:problem"), 1.0)
        if ev.cats is None:
            level = "minor" if minor_rule >= 0.6 and problem < 1.0 else "general"
            return level, 0.5
        p_minor = cats.get("severity:minor", 0.0) + cfg["minor_rule_weight"] * minor_rule
        p_general = cats.get("severity:general", 0.0) + cfg["problem_weight"] * problem
        p_general += cats.get("severity:major", 0.0)  # not major after all: weigh toward general
        level = "minor" if p_minor > p_general else "general"
        if level == "minor" and minor_rule:
            notes.append(f"severity minor: rules {_words(ev.rules, 'severity:minor')}")
        return level, round(max(p_minor, p_general) / (p_minor + p_general + 1e-9), 3)

    # -- department -------------------------------------------------------------------------
    def department(self, ev: Evidence, notes: list[str]) -> tuple[str, float]:
        cfg = self.config["department"]
        cats = ev.cats or {}
        scores = {}
        for name in self.taxonomy.department_names:
            rule = min(ev.rules.score(f"department:{name}"), cfg["rule_cap"])
            scores[name] = cats.get(f"department:{name}", 0.0) + cfg["rule_weight"] * rule
        best = max(scores, key=lambda name: scores[name])
        total = sum(scores.values())
        if total <= 0:
            default = cfg.get("default") or self.taxonomy.department_names[0]
            notes.append(f"department {default}: default, no evidence")
            return default, 0.2
        words = _words(ev.rules, f"department:{best}")
        prob = cats.get(f"department:{best}")
        source = f"model {prob:.2f}" if prob is not None else "rules"
        notes.append(f"department {best}: {source}" + (f"; words: {words}" if words else ""))
        return best, round(scores[best] / total, 3)

    # -- all together -----------------------------------------------------------------------
    def decide(self, ev: Evidence) -> Outcome:
        notes: list[str] = []
        reason, validity_conf = self.validity(ev, notes)
        validity = "invalid" if reason else "valid"
        if reason in self.taxonomy.minor_reasons or self.contentless(ev):
            flags: list[str] = []  # nothing in the text to escalate on
            severity, severity_conf = "minor", validity_conf
        else:
            flags, flag_conf = self.flags(ev, reason, notes)
            severity, severity_conf = self.severity(ev, flags, notes)
            if flags:
                severity_conf = flag_conf
        confidence = {"validity": validity_conf, "severity": round(severity_conf, 3)}
        department: str | None = None
        if validity == "valid":
            department, confidence["department"] = self.department(ev, notes)
        for item in ev.rules.suppressed[:3]:
            notes.append(f"ignored {item}")
        return Outcome(validity, reason, severity, flags, department, confidence, notes)

    def needs_review(self, outcome: Outcome) -> bool:
        return min(outcome.confidence.values(), default=1.0) < float(
            self.config["review_threshold"]
        )
