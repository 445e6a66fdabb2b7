"""The parts of an S3 multipart upload, the plain logic: how a file is cut into parts, and
which of the parts a bucket lists count (chunked uploads and direct uploads alike)."""

from __future__ import annotations

from typing import Any, Iterable, Mapping, Optional

__all__ = [
    "BLOCK",
    "blocks_from",
    "latest_parts",
    "missing",
    "part_count",
    "part_length",
    "part_lengths",
]

#: The parts one listing answers at most (S3's cap): a file is checked a block of parts at a time.
BLOCK = 1000


def part_count(size: int, part_size: int) -> int:
    """How many parts a file of ``size`` bytes is cut into (an empty file: one, empty)."""
    return max(1, -(-size // part_size))


def part_length(number: int, size: int, part_size: int) -> int:
    """The exact length of part ``number`` (1-based): ``part_size``, less for the last."""
    return max(0, min(part_size, size - (number - 1) * part_size))


def part_lengths(size: int, part_size: int) -> list[int]:
    return [
        part_length(number, size, part_size) for number in range(1, part_count(size, part_size) + 1)
    ]


def latest_parts(
    listed: Iterable[Mapping[str, Any]], size: Optional[int] = None, part_size: Optional[int] = None
) -> dict[int, Mapping[str, Any]]:
    """The parts a bucket lists, one per part number: of a part sent more than once (some
    servers list each copy), the newest, else the last listed. Given the file's ``size``
    and ``part_size``, among copies equally new (``LastModified`` counts whole seconds)
    one of the exact length is taken first."""

    def rank(part: Mapping[str, Any]) -> tuple[Any, bool]:
        exact = (
            size is not None
            and part_size is not None
            and part.get("Size") == part_length(part["PartNumber"], size, part_size)
        )
        return part.get("LastModified"), exact

    latest: dict[int, Mapping[str, Any]] = {}
    for part in listed:
        number = part.get("PartNumber")
        if not isinstance(number, int):
            continue
        held = latest.get(number)
        if held is None:
            latest[number] = part
            continue
        (new_time, new_exact), (old_time, old_exact) = rank(part), rank(held)
        if new_time is None or old_time is None or new_time > old_time:
            latest[number] = part
        elif new_time == old_time and (new_exact or not old_exact):
            latest[number] = part
    return latest


def blocks_from(number: int, count: int) -> list[tuple[int, int]]:
    """The first and last part numbers of each block of :data:`BLOCK` parts of a file of
    ``count`` parts, the block holding part ``number`` first, then those after it, then those
    before: a chunk that finds a part missing in its own block (the likely place) looks no
    further."""
    blocks = [(first, min(first + BLOCK - 1, count)) for first in range(1, count + 1, BLOCK)]
    own = (number - 1) // BLOCK
    return blocks[own:] + blocks[:own]


def missing(latest: Mapping[int, Any], first: int, last: int) -> bool:
    """Whether a part numbered ``first`` to ``last`` is not among ``latest``."""
    return any(number not in latest for number in range(first, last + 1))
