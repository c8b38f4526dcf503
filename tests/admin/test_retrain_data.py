"""What a retrain trains on: a correction's extra weight goes only to the labels the
supervisor changed, and versions name their data."""

from __future__ import annotations

from classifiers.corpus import LabelledExample, Labels
from classifiers.inputs import ClassifierInput
from classifiers.retrain import corrected_tasks, correction_examples, weighted
from classifiers.taxonomy import load_taxonomy
from classifiers.training import data_version, load_train_config, targets

ROW = {
    "text": "刚到货的冰箱门板上有一道很深的凹痕",
    "reference": "QC-1",
    "validity": "valid",
    "reason": None,
    "severity": "general",
    "flags": [],
    "department": "logistics",
    "previous": {"validity": "valid", "reason": None, "severity": "general", "flags": [],
                 "department": "quality"},
}  # fmt: skip


def test_corrected_tasks_are_the_changed_labels() -> None:
    assert corrected_tasks(ROW) == {"department"}
    flagged = {**ROW, "severity": "major", "flags": ["safety"]}
    assert corrected_tasks(flagged) == {"department", "severity", "flag"}
    invalid = {**ROW, "validity": "invalid", "reason": "spam", "department": None}
    assert "validity" in corrected_tasks(invalid)
    assert corrected_tasks({k: v for k, v in ROW.items() if k != "previous"}) == {
        "validity", "severity", "flag", "department"
    }  # fmt: skip


def test_extra_copies_teach_only_the_corrected_label() -> None:
    taxonomy = load_taxonomy()
    confirmed = {**ROW, "reference": "QC-2", "department": "quality"}  # nothing changed
    examples = correction_examples([ROW, confirmed])
    data = weighted(examples, 4)
    assert len(data) == 2 + 3  # each once; the changed one three times more
    first = [targets(e, taxonomy) for e in data if e.item.id == "QC-1"]
    assert set(first[0]) == {"validity", "severity", "department", "flag"}
    assert all(set(t) == {"department"} for t in first[1:])
    assert first[1]["department"]["department:logistics"] == 1.0


def test_the_version_changes_with_what_an_example_teaches() -> None:
    config = load_train_config()
    item = ClassifierInput(text="x", id="1")
    labels = Labels("valid", None, "general", (), "quality")
    every = LabelledExample(item, labels, "s")
    department_only = LabelledExample(item, labels, "s", frozenset({"department"}))
    assert data_version([every], config) != data_version([department_only], config)
    assert data_version([every], config) == data_version([every], dict(config))


def test_a_retrain_updates_only_the_corrected_component(tmp_path, repo_root) -> None:  # type: ignore[no-untyped-def]
    """Components no correction touched are the baseline's, byte for byte."""
    from classifiers.corpus import load_examples
    from classifiers.training import fine_tune, train
    from tests.admin.conftest import small_corpus

    taxonomy = load_taxonomy()
    config = {**load_train_config(), "epochs": 1, "augment_copies": 0}
    corpus = load_examples([small_corpus(tmp_path / "corpus", repo_root, per_file=15)])
    train(corpus, tmp_path / "base", taxonomy, config)
    fix = weighted(correction_examples([ROW]), 4)
    report = fine_tune(
        tmp_path / "base", fix, corpus, tmp_path / "cand", taxonomy,
        {**config, "finetune_epochs": 2, "replay": 2}, tasks=["department"], version="model-t",
    )  # fmt: skip
    assert report.model_version == "model-t"

    def weights(folder: str, component: str) -> bytes:
        return (tmp_path / folder / component / "model").read_bytes()

    for kept in ("textcat_validity", "textcat_severity", "textcat_flags"):
        assert weights("base", kept) == weights("cand", kept)
    assert weights("base", "textcat_department") != weights("cand", "textcat_department")


def test_hard_negative_replay_prefers_other_labels_sharing_the_corrections_words() -> None:
    import random

    from spacy.training import Example

    from classifiers.tokenizer import blank_pipeline
    from classifiers.training import _rehearsal

    nlp = blank_pipeline()

    def example(text: str, department: str) -> Example:
        doc = nlp.make_doc(text)
        reference = doc.copy()
        reference.cats = {
            f"department:{d}": float(d == department) for d in ("logistics", "quality")
        }
        return Example(doc, reference)

    fixes = [
        example(f"parcel delivered with a dent, courier van {n}", "logistics") for n in range(6)
    ]
    sharing = [
        example(f"fridge delivered last week, compressor noise {n}", "quality") for n in range(3)
    ]
    plain = [example(f"washing machine leaks water at spin {n}", "quality") for n in range(12)]
    kept = [example(f"courier lost the parcel {n}", "logistics") for n in range(6)]
    corpus = plain + sharing + kept

    # Three of the 15 quality examples are replayed (their share of 4); hard negatives: the ones
    # sharing "delivered" (in every correction, in few corpus examples), not a random three.
    def picked(hard: float) -> set[str]:
        out = _rehearsal(fixes, corpus, 4, random.Random(7), hard)
        return {e.reference.text for e in out if e.reference.cats["department:quality"]}

    assert picked(1.0) == {e.reference.text for e in sharing}
    assert picked(1.0) == picked(1.0)  # seeded: the same sample every run
    assert picked(0.0) != picked(1.0)


def test_every_retrain_option_is_a_setting_with_the_same_default() -> None:
    """The service passes its `admin.retrain` settings on by name (`gateway.retraining`);
    the settings keep their own defaults so that loading them needs no model library."""
    from dataclasses import asdict

    from classifiers.retrain import RetrainOptions
    from gateway.admin_ui.settings import RetrainSettings
    from gateway.retraining import OPTION_FIELDS

    options = asdict(RetrainOptions())
    assert set(options) == OPTION_FIELDS
    assert RetrainSettings().model_dump(include=OPTION_FIELDS) == options
