"""The multipart reader, checked against Werkzeug's form parser on generated bodies."""

from __future__ import annotations

import io
import re

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from werkzeug.datastructures import MultiDict
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.formparser import MultiPartParser

from flask_dropzone import multipart

BOUNDARY_CHARS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789'()+_,-./:=?"
NAME_CHARS = st.characters(blacklist_characters='"\\\r\n', blacklist_categories=("Cs", "Cc"))


class Collect:
    def __init__(self, name, filename):
        self.name, self.filename, self.data = name, filename, b""

    def write(self, data):
        self.data += bytes(data)

    def finish(self):
        pass


def ours(body: bytes, boundary: bytes, sizes=None, **limits):
    stream = io.BytesIO(body)
    files = []
    sizes = list(sizes or [])

    def read(size):
        return stream.read(min(size, sizes.pop(0)) if sizes else size)

    def open_file(name, filename, headers, fields):
        files.append(Collect(name, filename))
        return files[-1]

    fields = multipart.parse(read, boundary, open_file, **limits)
    grouped = MultiDict([(f.name, (f.filename, f.data)) for f in files])  # as Werkzeug groups them
    return list(fields.items(multi=True)), [(k, *v) for k, v in grouped.items(multi=True)]


def werkzeugs(body: bytes, boundary: bytes):
    fields, files = MultiPartParser().parse(io.BytesIO(body), boundary, len(body))
    return list(fields.items(multi=True)), [(k, f.filename, f.read()) for k, f in files.items(multi=True)]


def content(boundary: str):
    """Bytes full of near-delimiters: CRLFs, dashes and prefixes of the boundary."""
    tricky = [
        b"\r", b"\n", b"\r\n", b"--", b"\r\n--", b" \t",
        ("\r\n--" + boundary[:-1]).encode(),  # a delimiter cut short
        ("\r\n--" + boundary + "x").encode(),  # a delimiter followed by content
        ("\r\n--" + boundary + " \tx").encode(),
        ("--" + boundary + "y").encode(),
        boundary.encode()[:3],
    ]
    return st.lists(st.one_of(st.binary(max_size=40), st.sampled_from(tricky)), max_size=12).map(b"".join)


@st.composite
def bodies(draw):
    boundary = draw(st.text(BOUNDARY_CHARS, min_size=1, max_size=70))
    parts = draw(
        st.lists(
            st.tuples(
                st.booleans(),
                st.text(NAME_CHARS, min_size=1, max_size=12),
                st.text(NAME_CHARS, min_size=1, max_size=12),
                content(boundary),
            ),
            max_size=5,
        )
    )
    chunks = [b"preamble\r\n"] if draw(st.booleans()) else []
    for is_file, name, filename, data in parts:
        disposition = f'form-data; name="{name}"' + (f'; filename="{filename}"' if is_file else "")
        chunks.append(f"--{boundary}\r\nContent-Disposition: {disposition}\r\n".encode("utf-8"))
        if is_file:
            chunks.append(b"Content-Type: application/octet-stream\r\n")
        chunks.append(b"\r\n" + data + b"\r\n")
    chunks.append(f"--{boundary}--\r\n".encode())
    if draw(st.booleans()):
        chunks.append(b"epilogue")
    return b"".join(chunks), boundary.encode()


@settings(max_examples=300, deadline=None)
@given(body=bodies(), sizes=st.lists(st.integers(1, 50), max_size=30))
def test_reads_what_werkzeug_reads_however_the_body_arrives(body, sizes):
    data, boundary = body
    # One deliberate difference: only CRLF, as RFC 7578 says, ends a part (Werkzeug
    # also takes a lone CR or LF before the boundary).
    assume(not re.search(rb"(?<!\r)\n--" + re.escape(boundary) + rb"|\r--" + re.escape(boundary), data))
    assert outcome(ours, data, boundary, sizes) == outcome(werkzeugs, data, boundary)


def outcome(parser, *args):
    try:
        return parser(*args)
    except ValueError:
        return "malformed"


@settings(max_examples=300, deadline=None)
@given(data=st.binary(max_size=300), boundary=st.text(BOUNDARY_CHARS, min_size=1, max_size=20))
def test_garbage_is_a_value_error_never_a_crash(data, boundary):
    try:
        ours(b"--" + boundary.encode() + data, boundary.encode())
    except (ValueError, RequestEntityTooLarge):
        pass


def test_werkzeug_test_client_bodies():
    from werkzeug.test import encode_multipart

    boundary, body = encode_multipart(
        {"title": "T", "file": (io.BytesIO(b"abc"), "a.txt"), "empty": (io.BytesIO(b""), "")}
    )
    assert ours(body, boundary.encode()) == werkzeugs(body, boundary.encode())


def test_file_bodies_are_handed_over_without_copies():
    payload = bytes(range(256)) * 4096
    body = b"--b\r\nContent-Disposition: form-data; name=\"f\"; filename=\"x\"\r\n\r\n" + payload + b"\r\n--b--\r\n"
    views = []

    class Keep:
        def write(self, data):
            views.append(data)

        def finish(self):
            pass

    multipart.parse(io.BytesIO(body).read, b"b", lambda *args: Keep())
    assert all(isinstance(view, memoryview) for view in views)
    assert sum(len(view) for view in views) == len(payload)


@pytest.mark.parametrize(
    "body, error",
    [
        (b"", ValueError),
        (b"--b\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nno end", ValueError),
        (b"--b\r\nX: y\r\n\r\nvalue\r\n--b--", ValueError),  # no Content-Disposition
        (b"junk--b\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nv\r\n--b--", ValueError),
        (b"--b\r\n" + b"X" * (multipart.MAX_HEADER_SIZE + 10), ValueError),
        (b"--b\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\n" + b"v" * 101 + b"\r\n--b--", RequestEntityTooLarge),
    ],
)
def test_malformed_or_oversized(body, error):
    with pytest.raises(error):
        ours(body, b"b", max_form_memory_size=100)


def test_part_count_limit():
    part = b"--b\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nv\r\n"
    assert len(ours(part * 3 + b"--b--", b"b", max_form_parts=3)[0]) == 3
    with pytest.raises(RequestEntityTooLarge):
        ours(part * 4 + b"--b--", b"b", max_form_parts=3)
