"""Corrections that retrain: a systematic confusion, 40 corrections, a retrain, the effect.

    .venv/bin/python bench/retrain.py [--corrections 40] [--epochs N] [--keep DIR]
    .venv/bin/python bench/retrain.py --timing 5000    # the retrain job's time on 5,000 examples

End to end on an embedded gateway (SQLite, in-process jobs, the shipped model): complaints
about goods that *arrived* dented or cracked (transport damage → `logistics`) phrased in
defect words, which the shipped model sends to `quality`, are submitted through the JSON
API; a supervisor corrects 40 misrouted ones to `logistics` (history, re-routing and a
training example each); `retrain` builds a new version and promotes it only when no label's
F1 on the regression set falls by more than the margin. Then fresh complaints of the same
kind (combinations never submitted) are classified by the running service, which picks up
the promoted version without a restart.

Target: the confusion on fresh examples falls by at least 75 % and no other label's F1
falls by more than 0.02. Also printed: retraining time and examples trained on.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from aiohttp.test_utils import TestClient, TestServer  # noqa: E402

from classifiers import ClassifierInput  # noqa: E402
from gateway.app import create_app  # noqa: E402
from gateway.bootstrap import migrate  # noqa: E402
from gateway.classification import ClassifyStep  # noqa: E402
from gateway.corrections import Correction, apply_correction  # noqa: E402
from gateway.retraining import run_retrain  # noqa: E402
from gateway.services import build_services  # noqa: E402
from gateway.settings import load_settings  # noqa: E402
from storage.accounts import create_api_key  # noqa: E402

PRODUCTS_ZH = ["冰箱BCD-520W", "洗衣机XQG100-HT8", "热水器JSQ24-HT3", "微波炉", "电饭煲",
               "油烟机", "空调室内机KFR-35GW/HT1", "电动车EB-HT60", "燃气热水器"]  # fmt: skip
ARRIVAL_ZH = ["刚到货的", "今天送到的", "快递刚送来的", "昨天签收的", "拆开包装发现新买的",
              "物流送来的", "网上买的刚收到的", "师傅刚搬进门的"]  # fmt: skip
DAMAGE_ZH = ["门板上有一道很深的凹痕", "外壳开裂了", "面板裂了好几道", "侧面整个变形凹进去",
             "玻璃碎了", "底座断了", "表面全是划痕还有凹坑", "后盖裂开了"]  # fmt: skip
TAIL_ZH = ["，订单号HT20260315-0042，请尽快处理", "，太让人失望了", "，要求换货",
           "，我的电话13812345678", "，怎么会这样", "，请给个说法"]  # fmt: skip
PRODUCTS_EN = ["fridge", "washing machine", "water heater", "microwave", "rice cooker",
               "range hood", "air conditioner", "e-bike"]  # fmt: skip
ARRIVAL_EN = ["The {p} arrived with", "My new {p} was delivered with", "Just received the {p}:",
              "Unboxed the {p} today and found", "The courier brought the {p} with"]  # fmt: skip
DAMAGE_EN = ["a deep dent in the door", "a cracked front panel", "the side panel bent",
             "broken glass", "a snapped base", "scratches and dents all over"]  # fmt: skip
TAIL_EN = [". Order HT20260315-0042.", ". Please replace it.", ". Very disappointed.",
           ". Call me on 13812345678."]  # fmt: skip


def make_texts(seed: int, count: int, exclude: set[str] = frozenset()) -> list[str]:  # type: ignore[assignment]
    rng = random.Random(seed)
    out: list[str] = []
    while len(out) < count:
        if rng.random() < 0.7:
            text = (
                rng.choice(ARRIVAL_ZH)
                + rng.choice(PRODUCTS_ZH)
                + rng.choice(DAMAGE_ZH)
                + rng.choice(TAIL_ZH)
            )
        else:
            text = (
                rng.choice(ARRIVAL_EN).format(p=rng.choice(PRODUCTS_EN))
                + " "
                + rng.choice(DAMAGE_EN)
                + rng.choice(TAIL_EN)
            )
        if text not in exclude and text not in out:
            out.append(text)
    return out


def confusion(step: ClassifyStep, texts: list[str]) -> float:
    items = [ClassifierInput(text=t, channel="api", complainant={"phone": "13812345678"})
             for t in texts]  # fmt: skip
    decisions = step.classifier.classify_many(items)
    return sum(d.department == "quality" for d in decisions) / len(texts)


async def main(args: argparse.Namespace) -> dict[str, object]:
    workdir = Path(args.keep or tempfile.mkdtemp(prefix="retrain-bench-"))
    workdir.mkdir(parents=True, exist_ok=True)
    overrides: dict[str, object] = {"margin": 0.02, "min_corrections": 10}
    if args.epochs:
        overrides["epochs"] = args.epochs
    if args.correction_weight:
        overrides["correction_weight"] = args.correction_weight
    settings = load_settings(
        database_url=f"sqlite+aiosqlite:///{workdir}/gateway.db",
        data_dir=workdir,
        admin={"retrain": overrides},
        run_listeners=False,
    )
    await asyncio.to_thread(migrate, settings)
    step = ClassifyStep(data_dir=workdir, poll_seconds=0)
    svc = build_services(settings, step)
    async with svc.sessions.begin() as session:
        key = await create_api_key(session, "bench")
    client = TestClient(TestServer(create_app(svc)))
    await client.start_server()
    try:
        submitted = make_texts(1, args.corrections * 3)
        fresh = make_texts(2, 200, exclude=set(submitted))
        before = confusion(step, fresh)
        references = []
        for number, text in enumerate(submitted):
            response = await client.post(
                "/api/v1/complaints",
                json={"body": text, "complainant": {"phone": "13812345678"}},
                headers={"Authorization": f"Bearer {key}", "Idempotency-Key": f"b{number}"},
            )
            references.append((await response.json())["reference"])
        corrected = 0
        for reference in references:
            record = await _record(client, key, reference)
            if record["classification"]["department"] != "quality":
                continue
            await apply_correction(
                svc, reference, Correction(department="logistics"),
                actor="supervisor.bench", note="arrived damaged: transport, not a defect",
            )  # fmt: skip
            corrected += 1
            if corrected == args.corrections:
                break
        started = time.perf_counter()
        outcome = await run_retrain(svc, "bench")
        seconds = time.perf_counter() - started
        after = confusion(step, fresh)
        candidate = ClassifyStep(data_dir=workdir, poll_seconds=0)
        candidate.classifier = step.build(step.models.path(str(outcome["version"])))  # type: ignore[union-attr]
        candidate_confusion = confusion(candidate, fresh)
        others = {
            label: round(v["after"] - v["before"], 4)
            for label, v in outcome["regression"].items()  # type: ignore[union-attr]
            if label != "department:logistics" and label != "department:quality"
        }
        worst = min(others.values(), default=0.0)
        reduction = (before - after) / before if before else 0.0
        return {
            "corrections": corrected,
            "confusion_before": round(before, 3),
            "confusion_after": round(after, 3),
            "reduction": round(reduction, 3),
            "target_reduction_met": reduction >= 0.75,
            "candidate_confusion": round(candidate_confusion, 3),
            "promoted": outcome["promoted"],
            "version": outcome["version"],
            "active_model_now": step.classifier.status["model_version"],
            "worst_other_label_f1_change": worst,
            "target_f1_met": worst >= -0.02,
            "quality_logistics_f1": {
                k: v
                for k, v in outcome["regression"].items()  # type: ignore[union-attr]
                if k in ("department:logistics", "department:quality")
            },
            "heldout_corrections": outcome["heldout"],
            "retrain_seconds_total": round(seconds, 1),
            "examples_trained": outcome["examples"],
            "message": outcome["message"],
            "workdir": str(workdir),
        }
    finally:
        await client.close()
        await svc.close()


async def _record(client: TestClient, key: str, reference: str) -> dict:  # type: ignore[type-arg]
    for _ in range(400):
        response = await client.get(
            f"/api/v1/complaints/{reference}", headers={"Authorization": f"Bearer {key}"}
        )
        if response.status == 200:
            return await response.json()  # type: ignore[no-any-return]
        await asyncio.sleep(0.05)
    raise RuntimeError(f"{reference} was not processed")


def timing(args: argparse.Namespace) -> dict[str, object]:
    """The retrain job's time on `--timing N` training examples (shipped corpus plus enough
    corrections, here channel-style variants of corpus texts with their labels).

    Cold: the first retrain after a corpus change also builds the `base-…` version that
    stands in for the shipped model; warm: every later retrain (the base is reused).
    """
    from classifiers.augment import augment
    from classifiers.classifier import load_classifier
    from classifiers.corpus import DEFAULT_TRAIN_DIRS, load_examples
    from classifiers.retrain import Retrainer, RetrainOptions, held_out
    from classifiers.taxonomy import load_taxonomy
    from classifiers.versions import ModelStore

    workdir = Path(args.keep or tempfile.mkdtemp(prefix="retrain-timing-"))
    options = RetrainOptions(margin=1.0, min_corrections=1)
    job = Retrainer(
        store=ModelStore(workdir / "models"),
        taxonomy=load_taxonomy(),
        train_dirs=list(DEFAULT_TRAIN_DIRS),
        classifier_for=lambda folder: load_classifier(model_dir=folder),
        options=options,
    )
    shipped_train, _ = job.split()
    corpus = load_examples(DEFAULT_TRAIN_DIRS)
    rows: list[dict[str, object]] = []
    fitted, seed = 0, 0
    while len(shipped_train) + fitted * options.correction_weight < args.timing:
        seed += 1
        for example in augment(corpus, seed=1000 + seed):
            reference = f"T{len(rows):06d}"
            labels = example.labels
            rows.append({"text": example.item.text, "reference": reference,
                         "validity": labels.validity, "reason": labels.reason,
                         "severity": labels.severity, "flags": list(labels.flags),
                         "department": labels.department})  # fmt: skip
            fitted += not held_out(reference, options.holdout_every)
            if len(shipped_train) + fitted * options.correction_weight >= args.timing:
                break
    result: dict[str, object] = {"corrections": len(rows), "workdir": str(workdir)}
    for phase in ("cold", "warm"):
        if phase == "warm":  # a new candidate (one more correction), the base reused
            rows.append({**rows[0], "reference": "T-extra"})
        started = time.perf_counter()
        outcome = job.run(rows, actor="bench")
        result[f"{phase}_seconds"] = round(time.perf_counter() - started, 1)
        result["examples_trained"] = outcome.examples
    result["target_met"] = float(result["warm_seconds"]) < 180  # type: ignore[arg-type]
    if args.scratch:  # the fallback when the baseline cannot be updated: all from scratch
        from classifiers.retrain import correction_examples, weighted
        from classifiers.training import load_train_config, train

        kept = [e for e in correction_examples(rows) if not held_out(e.item.id or "", 4)]
        data = shipped_train + weighted(kept, options.correction_weight)
        started = time.perf_counter()
        train(data, workdir / "scratch", job.taxonomy, load_train_config())
        result["scratch_seconds"] = round(time.perf_counter() - started, 1)
        result["scratch_examples"] = len(data)
    return result


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--corrections", type=int, default=40)
    parser.add_argument("--epochs", type=int, default=None)
    parser.add_argument("--correction-weight", type=int, default=None)
    parser.add_argument("--keep", default=None, help="work folder to keep (default: a temp one)")
    parser.add_argument(
        "--timing", type=int, default=0, metavar="N",
        help="instead: time the retrain job on N training examples (target: < 180 s)",
    )  # fmt: skip
    parser.add_argument(
        "--scratch", action="store_true", help="with --timing: also time a training from scratch"
    )
    arguments = parser.parse_args()
    result = timing(arguments) if arguments.timing else asyncio.run(main(arguments))
    print(json.dumps(result, ensure_ascii=False, indent=1))
