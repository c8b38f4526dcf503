"""HTML bodies to readable text (inscriptis keeps the layout of paragraphs, lists and tables).

Quoted earlier messages are left in: they are cut from the text by `quotes`, which also
sees the forward markers that must not be cut.
"""

from __future__ import annotations

import re

from inscriptis import get_text
from inscriptis.model.config import ParserConfig

_CONFIG = ParserConfig(display_links=False, display_images=False)
_BLANK_RUNS = re.compile(r"\n[ \t\u3000]*(?:\n[ \t\u3000]*){2,}")
_TRAILING = re.compile(r"[ \t\u3000]+\n")
_TAGS = re.compile(r"<[^>]+>")


def html_to_text(html: str) -> str:
    """Readable text of an HTML body."""
    try:
        text = get_text(html, _CONFIG)
    except Exception:  # a body no parser can read still yields its visible characters
        text = _TAGS.sub(" ", html)
    text = _TRAILING.sub("\n", text.replace("\xa0", " "))
    return _BLANK_RUNS.sub("\n\n", text).strip()
