"""A part kept as the blocks it arrived in reads as one file: sizes, seeks, reads across blocks."""

from __future__ import annotations

import io
import os

import pytest

from flask_dropzone._stores.s3.files import Blocks


@pytest.mark.parametrize("sizes", [[], [0], [1], [3, 0, 5], [1000, 1, 4096, 77]])
@pytest.mark.parametrize("read_size", [1, 7, 4096, -1])
def test_blocks_read_as_the_bytes_they_hold(sizes, read_size):
    blocks = [os.urandom(size) for size in sizes]
    whole = b"".join(blocks)
    part = Blocks(blocks)
    assert len(part) == len(whole) and part.seek(0, io.SEEK_END) == len(whole)
    for start in {0, len(whole) // 2, len(whole)}:
        part.seek(start)
        got = b""
        while True:
            piece = part.read(read_size)
            if not piece:
                break
            got += piece
        assert got == whole[start:] and part.tell() == len(whole)
