"""OCR engine benchmark on generated letters: character accuracy and seconds per page.

    .venv/bin/python bench/ocr.py [--letters N] [--engines rapidocr,tesseract]

Renders N letters (half Chinese, half English) on A4 at 300 dpi with Debian's CJK
fonts, degrades copies of them (rotation, blur, noise, 150 dpi JPEG, a phone photo),
and reads every page with each engine in this process on one core (the engine built
once, as in an OCR worker). `s/page` is wall time, `cpu s` the CPU time per page
(preparation included), which a busy shared machine does not inflate.
Accuracy = 1 − edit distance / reference length after NFKC and whitespace removal.
Targets: ≥ 0.97 clean, ≥ 0.90 degraded, ≤ 3 s per A4 page.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import sys
import time
from pathlib import Path

os.environ.setdefault("OMP_THREAD_LIMIT", "1")
ROOT = Path(__file__).resolve().parent.parent
# bench/ holds scripts named like stdlib modules (email.py): keep it off the import path.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != ROOT / "bench"]
sys.path.insert(0, str(ROOT))

from channels.letter.engines import get_engine  # noqa: E402
from channels.letter.layout import paragraph_text, paragraphs, rows  # noqa: E402
from channels.letter.prepare import prepare  # noqa: E402
from channels.letter.samples import (  # noqa: E402
    DEGRADATIONS,
    char_accuracy,
    degrade,
    render,
    sample_letters,
)

TARGETS = {"clean": 0.97, "degraded": 0.90, "seconds_per_page": 3.0}


def _cpu_seconds() -> float:
    """CPU time of this process and its finished children (Tesseract runs as a child):
    what a page costs on one core, whatever else the machine is doing."""
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return time.process_time() + children.ru_utime + children.ru_stime


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--letters", type=int, default=4)
    parser.add_argument("--engines", default="rapidocr,tesseract")
    args = parser.parse_args()
    letters = sample_letters(args.letters, seed=11)
    pages = []
    for i, letter in enumerate(letters):
        clean = render(letter, font_index=i)
        pages.append((letter, "clean", clean))
        how = DEGRADATIONS[i % len(DEGRADATIONS)]
        pages.append((letter, how, degrade(clean, how, seed=i)))
    for how in DEGRADATIONS[len(letters) :]:
        pages.append((letters[0], how, degrade(render(letters[0]), how, seed=99)))
    print(f"{len(pages)} pages: {len(letters)} letters (zh/en) clean + degraded copies")
    print(
        f"{'engine':<24} {'set':<9} {'lang':<4} {'pages':>5} {'accuracy':>9} "
        f"{'min':>6} {'s/page':>7} {'cpu s':>7}"
    )
    for name in args.engines.split(","):
        started = time.perf_counter()
        engine = get_engine(name)
        engine.read(render(letters[0], dpi=100), ("zh", "en"))  # warm up
        load = time.perf_counter() - started
        results: dict[tuple[str, str], list[tuple[float, float]]] = {}
        for letter, how, page in pages:
            t, cpu = time.perf_counter(), _cpu_seconds()
            prepared, _skew = prepare(page)
            lines = engine.read(prepared, ("zh", "en"))
            seconds = time.perf_counter() - t
            cpu_seconds = _cpu_seconds() - cpu
            text = "\n".join(paragraph_text(p) for p in paragraphs(rows(lines)))
            group = "clean" if how == "clean" else "degraded"
            score = char_accuracy(letter.text(), text)
            results.setdefault((group, letter.language), []).append((score, seconds, cpu_seconds))
            if how != "clean":
                results.setdefault((how, letter.language), []).append((score, seconds, cpu_seconds))
        for (group, lang), values in sorted(results.items()):
            scores = [v[0] for v in values]
            secs = [v[1] for v in values]
            cpus = [v[2] for v in values]
            print(
                f"{engine.version:<24} {group:<9} {lang:<4} {len(values):>5} "
                f"{statistics.mean(scores):>9.3f} {min(scores):>6.3f} "
                f"{statistics.mean(secs):>7.2f} {statistics.mean(cpus):>7.2f}"
            )
        rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(f"{engine.version:<24} load+warm-up {load:.2f} s, peak RSS so far {rss:.0f} MB")
    print(f"targets: {TARGETS}")


if __name__ == "__main__":
    main()
