"""A script-aware spaCy tokenizer: one token per Han character, whole words otherwise.

Why not spaCy's own Chinese segmenters (measured in docs/classification.md): the `char`
segmenter also splits English into single letters, so English keywords and n-gram features
are lost in mixed text; `jieba` is slower, needs its dictionary at load time and moves word
boundaries depending on context, so a Chinese keyword can fail to match; `pkuseg` needs a
model download and does not work offline. With one token per Han character a Chinese keyword
always matches (PhraseMatcher works on token sequences), and the learned model sees Chinese
character bigrams/trigrams, which stand in for words.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

import spacy
from spacy.language import Language
from spacy.tokens import Doc
from spacy.vocab import Vocab

TOKENIZER_NAME = "hengtai.script_tokenizer.v1"

_TOKEN = re.compile(
    r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]"  # one Han character
    r"|[^\W_\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+(?:['’][a-z]+)*"  # other words, numbers
    r"|\S",  # any other visible character (punctuation, emoji)
)
_HAN_CHAR = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")


def split(text: str) -> tuple[list[str], list[bool]]:
    """Words and trailing-space flags for `Doc(vocab, words, spaces)`."""
    words: list[str] = []
    spaces: list[bool] = []
    prev_end = 0
    for match in _TOKEN.finditer(text):
        token = match.group()
        if words:
            spaces[-1] = match.start() > prev_end
        words.append(token)
        spaces.append(False)
        prev_end = match.end()
    if words:
        spaces[-1] = len(text) > prev_end and text[prev_end:].startswith((" ", "\n"))
    return words, spaces


class ScriptTokenizer:
    """Callable spaCy tokenizer; has no state to save beyond the shared vocab."""

    def __init__(self, vocab: Vocab) -> None:
        self.vocab = vocab

    def __call__(self, text: str) -> Doc:
        words, spaces = split(text)
        return Doc(self.vocab, words=words, spaces=spaces)

    def pipe(self, texts: Iterable[str], batch_size: int = 1000) -> Iterator[Doc]:
        for text in texts:
            yield self(text)

    # Serialisation hooks spaCy calls when saving or loading a pipeline: nothing to keep.
    def to_bytes(self, **_: Any) -> bytes:
        return b""

    def from_bytes(self, _data: bytes, **_: Any) -> ScriptTokenizer:
        return self

    def to_disk(self, _path: str | Path, **_: Any) -> None:
        return None

    def from_disk(self, _path: str | Path, **_: Any) -> ScriptTokenizer:
        return self


@spacy.registry.tokenizers(TOKENIZER_NAME)
def create_script_tokenizer() -> Callable[[Language], ScriptTokenizer]:
    """Registered so a saved pipeline names it in its config and `spacy.load` rebuilds it."""

    def make(nlp: Language) -> ScriptTokenizer:
        return ScriptTokenizer(nlp.vocab)

    return make


def blank_pipeline() -> Language:
    """An empty multi-language pipeline with this tokenizer (rules-only mode and training)."""
    return spacy.blank("xx", config={"nlp": {"tokenizer": {"@tokenizers": TOKENIZER_NAME}}})


def is_han(token_text: str) -> bool:
    return bool(_HAN_CHAR.fullmatch(token_text))
