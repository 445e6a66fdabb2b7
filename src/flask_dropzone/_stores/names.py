"""Free variants of a name, tried in turn by every store: ``a.png``, ``a (1).png``, ..."""

from __future__ import annotations

import secrets
from typing import Iterator, Union

#: Numbered names tried (``a (1).png`` ... ``a (99).png``) before random ones.
NUMBERED_NAMES = 100
_RANDOM_NAMES = 20


def numbered(name: str, number: Union[int, str]) -> str:
    """``name`` with `` (number)`` before its extension; ``name`` itself for 0."""
    if number == 0:
        return name
    stem, dot, ext = name.rpartition(".")
    if not stem:
        return f"{name} ({number})"
    return f"{stem} ({number}){dot}{ext}"


def candidates(name: str) -> Iterator[str]:
    for number in range(NUMBERED_NAMES):
        yield numbered(name, number)
    for _ in range(_RANDOM_NAMES):  # a crowded name: a random suffix is free at once
        yield numbered(name, secrets.token_hex(4))
