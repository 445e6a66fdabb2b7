"""Every ```python fragment of the site's pages is Python: a fragment with a syntax error, or
one cut so that it no longer stands alone, fails here."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

DOCS = Path(__file__).resolve().parents[2] / "docs"
PAGES = sorted(path for path in DOCS.rglob("*.md") if "_build" not in path.parts)
FENCE = re.compile(
    r"^(?P<fence>`{3,})(?:python|py|\{code-block\} python)\s*\n(?P<code>.*?)^(?P=fence)\s*$",
    re.M | re.S,
)


def fragments() -> list[tuple[str, int, str]]:
    found = []
    for path in PAGES:
        text = path.read_text(encoding="utf-8")
        for match in FENCE.finditer(text):
            line = text.count("\n", 0, match.start()) + 2
            found.append((str(path.relative_to(DOCS)), line, match.group("code")))
    return found


def test_the_pages_have_python_fragments():
    assert len(fragments()) > 20


@pytest.mark.parametrize(("page", "line", "code"), fragments(), ids=lambda value: str(value)[:40])
def test_each_python_fragment_parses(page, line, code):
    try:
        ast.parse(code, filename=f"{page}:{line}")
    except SyntaxError as error:
        pytest.fail(f"docs/{page}, the fragment at line {line}: {error}")
