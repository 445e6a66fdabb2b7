"""Reading multipart/form-data: agreement with Werkzeug and multipart, the deliberate
differences, Werkzeug's test-client bodies, and linear time on hostile bodies."""

from __future__ import annotations

import io
import re
import time
import tracemalloc

import multipart
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from werkzeug.datastructures import FileStorage, MultiDict
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.formparser import MultiPartParser
from werkzeug.test import encode_multipart

from flask_dropzone._rules import formdata

from support.hostile_bodies import JUNK_FAMILIES, part, reads
from support.properties import examples

MIB = 1024 * 1024
BOUNDARY_CHARS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789'()+_,-./:=?"
NAME_CHARS = st.characters(blacklist_characters='"\\%\r\n', blacklist_categories=("Cs", "Cc"))


class Collect:
    def __init__(self, name, filename):
        self.name, self.filename, self.data = name, filename, b""

    def write(self, data):
        self.data += bytes(data)

    def finish(self):
        pass


def ours(body: bytes, boundary: bytes, sizes=None, **limits):
    sizes = list(sizes or [])
    read_body = reads(body)

    def read(size):
        return read_body(min(size, sizes.pop(0)) if sizes else size)

    files = []

    def open_file(name, filename, headers, fields):
        files.append(Collect(name, filename))
        return files[-1]

    fields = formdata.parse(read, boundary, open_file, **limits)
    grouped = MultiDict([(f.name, (f.filename, f.data)) for f in files])  # as Werkzeug groups them
    return list(fields.items(multi=True)), [(k, *v) for k, v in grouped.items(multi=True)]


def werkzeugs(body: bytes, boundary: bytes):
    fields, files = MultiPartParser().parse(io.BytesIO(body), boundary, len(body))
    return list(fields.items(multi=True)), [
        (k, f.filename, f.read()) for k, f in files.items(multi=True)
    ]


def multiparts(body: bytes, boundary: bytes):
    """The multipart library's own blocking parser, as a second opinion."""
    parser = multipart.MultipartParser(
        io.BytesIO(body), boundary.decode("latin-1"), part_limit=10**6
    )
    fields, files = [], []
    for item in parser:
        if item.filename is None:
            fields.append((item.name, item.raw.decode("utf-8", "replace")))
        else:
            files.append((item.name, (item.filename, item.raw)))
    grouped = MultiDict(files)
    return list(MultiDict(fields).items(multi=True)), [
        (k, *v) for k, v in grouped.items(multi=True)
    ]


def outcome(parser, *args):
    try:
        return parser(*args)
    except (ValueError, multipart.MultipartError):
        return "malformed"


def content(boundary: str):
    """Bytes full of near-delimiters: CRLFs, dashes and prefixes of the boundary."""
    tricky = [
        b"\r",
        b"\n",
        b"\r\n",
        b"--",
        b"\r\n--",
        b" \t",
        b"\r\n\r\n",
        ("\r\n--" + boundary[:-1]).encode(),  # a delimiter cut short
        ("--" + boundary[:-1]).encode(),
        boundary.encode()[:3],
    ]
    return st.lists(st.one_of(st.binary(max_size=40), st.sampled_from(tricky)), max_size=12).map(
        b"".join
    )


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
    return b"".join(chunks), boundary.encode(), [data for *_, data in parts]


def deliberately_different(boundary: bytes, contents: list[bytes]) -> bool:
    """Content where the readings differ on purpose (see the plain tests below): the
    boundary after any line break, or at the very start of a part's body."""
    after_break = re.compile(rb"(\r\n|\r|\n)--" + re.escape(boundary))
    return any(after_break.search(data) or data.startswith(b"--" + boundary) for data in contents)


@pytest.mark.fuzz
@settings(max_examples=examples(300, 20_000))
@given(body=bodies(), sizes=st.lists(st.integers(1, 50), max_size=30))
def test_reads_what_werkzeug_and_multipart_read_however_the_body_arrives(body, sizes):
    data, boundary, contents = body
    assume(not deliberately_different(boundary, contents))
    expected = outcome(werkzeugs, data, boundary)
    assert expected != "malformed"
    assert outcome(ours, data, boundary, sizes) == expected
    assert outcome(multiparts, data, boundary) == expected


@pytest.mark.fuzz
@settings(max_examples=examples(300, 20_000))
@given(data=st.binary(max_size=300), boundary=st.text(BOUNDARY_CHARS, min_size=1, max_size=20))
def test_garbage_is_a_value_error_never_a_crash(data, boundary):
    try:
        ours(b"--" + boundary.encode() + data, boundary.encode())
    except (ValueError, RequestEntityTooLarge):
        pass


@pytest.mark.fuzz
@settings(max_examples=examples(200, 5_000))
@given(
    values=st.lists(
        st.tuples(
            st.text(NAME_CHARS, min_size=1, max_size=8), st.booleans(), st.binary(max_size=30)
        ),
        max_size=6,
    ),
    sizes=st.lists(st.integers(1, 9), max_size=60),
)
def test_werkzeug_test_client_bodies_read_as_werkzeug_reads_them(values, sizes):
    """Flask's test client writes an empty part without its blank line; it must not
    swallow the next part."""
    data = MultiDict()
    for name, is_file, value in values:
        if is_file:
            data.add(name, FileStorage(io.BytesIO(value), filename="f.bin"))
        else:
            data.add(name, value.decode("latin-1"))
    boundary, body = encode_multipart(data)
    assert ours(body, boundary.encode(), sizes) == werkzeugs(body, boundary.encode())


def test_empty_values_from_the_test_client():
    boundary, body = encode_multipart(
        {"a": "", "b": "", "file": FileStorage(io.BytesIO(b""), filename="e.bin"), "c": "x"}
    )
    assert ours(body, boundary.encode()) == (
        [("a", ""), ("b", ""), ("c", "x")],
        [("file", "e.bin", b"")],
    )


# Deliberate differences from Werkzeug: framing RFC 7578 does not allow is refused, never guessed.
@pytest.mark.parametrize(
    "body, werkzeug_reads",
    [
        # A delimiter followed by a bare LF (the case that once made `make test` fail 1 run in 20).
        (
            b'--0\r\nContent-Disposition: form-data; name="0"\r\n\r\n\r\n--0\n'
            b'Content-Disposition: form-data; name="1"\r\n\r\nv\r\n--0--\r\n',
            [("0", ""), ("1", "v")],
        ),
        # Blanks between a delimiter and its line break ("transport padding").
        (
            b'--0\r\nContent-Disposition: form-data; name="a"\r\n\r\nv\r\n--0  \r\n'
            b'Content-Disposition: form-data; name="b"\r\n\r\nw\r\n--0--\r\n',
            [("a", "v"), ("b", "w")],
        ),
        # The delimiter followed by other bytes inside a part.
        (
            b'--0\r\nContent-Disposition: form-data; name="a"\r\n\r\nv\r\n--0x\r\n--0--\r\n',
            [("a", "v\r\n--0x")],
        ),
        # A preamble not ending in CRLF, a part without a name, a header line without a colon.
        (
            b'junk--0\r\nContent-Disposition: form-data; name="a"\r\n\r\nv\r\n--0--\r\n',
            [("a", "v")],
        ),
        (b"--0\r\nContent-Disposition: form-data\r\n\r\nv\r\n--0--\r\n", [(None, "v")]),
        (
            b'--0\r\nContent-Disposition: form-data; name="a"\r\nbogus\r\n\r\nv\r\n--0--\r\n',
            [("a", "v")],
        ),
    ],
)
def test_framing_werkzeug_guesses_at_is_refused(body, werkzeug_reads):
    assert werkzeugs(body, b"0")[0] == werkzeug_reads
    with pytest.raises(ValueError):
        ours(body, b"0")


def test_a_bare_lf_after_the_first_part_is_content_not_a_delimiter():
    # RFC 7578: only CRLF "--" boundary ends a part; Werkzeug reads this as two fields.
    body = (
        b'--0\r\nContent-Disposition: form-data; name="0"\r\n\r\n--0\n\r\n'
        b'--0\r\nContent-Disposition: form-data; name="0"\r\n\r\n\r\n--0--\r\n'
    )
    assert ours(body, b"0")[0] == [("0", "--0\n"), ("0", "")]


def test_file_names_windows_paths_and_filename_star():
    body = (
        b'--0\r\nContent-Disposition: form-data; name="a"; filename="C:\\\\x\\\\y.txt"\r\n\r\nv\r\n'
        b"--0\r\nContent-Disposition: form-data; name=\"b\"; filename*=UTF-8''%C3%A9.txt\r\n\r\nw\r\n--0--\r\n"
    )
    # A Windows path is cut to its last part; filename* (which browsers never send) is not read.
    assert ours(body, b"0") == ([("b", "w")], [("a", "y.txt", b"v")])


@pytest.mark.parametrize(
    "body, error",
    [
        (b"", ValueError),
        (b'--b\r\nContent-Disposition: form-data; name="a"\r\n\r\nno end', ValueError),
        (b"--b\r\nX: y\r\n\r\nvalue\r\n--b--", ValueError),  # no Content-Disposition
        (b"--b\r\n" + b"X" * (formdata.MAX_HEADER_SIZE + 10), RequestEntityTooLarge),
        (
            b"--b\r\n" + b"X-A: b\r\n" * (formdata.MAX_HEADER_COUNT + 1) + b"\r\n--b--",
            RequestEntityTooLarge,
        ),
        (
            b'--b\r\nContent-Disposition: form-data; name="a"\r\n\r\n' + b"v" * 101 + b"\r\n--b--",
            RequestEntityTooLarge,
        ),
        (
            b'--b\r\nContent-Disposition: form-data; name="\xff"\r\n\r\nv\r\n--b--',
            ValueError,
        ),  # not UTF-8
        (
            b'--b\r\nContent-Disposition: form-data; name="a"\r\nX: a\rb\r\n\r\nv\r\n--b--',
            ValueError,
        ),  # CR in a value
    ],
)
def test_malformed_or_oversized(body, error):
    with pytest.raises(error):
        ours(body, b"b", max_form_memory_size=100)


def test_part_count_limit():
    one = b'--b\r\nContent-Disposition: form-data; name="a"\r\n\r\nv\r\n'
    assert len(ours(one * 3 + b"--b--", b"b", max_form_parts=3)[0]) == 3
    with pytest.raises(RequestEntityTooLarge):
        ours(one * 4 + b"--b--", b"b", max_form_parts=3)


def test_a_field_cannot_choose_a_slow_decoder():
    value = "ü".encode("punycode") * (400_000 // 3)
    body = (
        b'--b\r\nContent-Disposition: form-data; name="a"\r\nContent-Type: text/plain; charset=punycode\r\n\r\n'
        + value
        + b"\r\n--b--\r\n"
    )
    start = time.perf_counter()
    fields, _ = ours(body, b"b")
    assert time.perf_counter() - start < 1  # punycode would take about 20 s
    assert fields == [("a", value.decode())]  # read as UTF-8


@pytest.mark.parametrize(
    "charset, value", [("latin-1", "é"), ("ISO-8859-1", "é"), ("utf-8", "é"), ("us-ascii", "x")]
)
def test_allowed_charsets_decode_fields(charset, value):
    assert formdata.decode_field(value.encode(charset), charset) == value


class Discard:
    def write(self, data):
        pass

    def finish(self):
        pass


@pytest.mark.parametrize("size", [4 * MIB, 32 * MIB])
@pytest.mark.parametrize("family", sorted(JUNK_FAMILIES))
def test_hostile_bodies_parse_in_linear_time_and_bounded_memory(family, size):
    body = JUNK_FAMILIES[family](size)
    tracemalloc.start()
    start = time.perf_counter()
    try:
        formdata.parse(
            reads(body),
            b"B",
            lambda *args: Discard(),
            max_form_parts=1000,
            max_form_memory_size=500_000,
        )
    except (ValueError, RequestEntityTooLarge):
        pass  # refused is fine; slow or memory-hungry is not
    finally:
        seconds = time.perf_counter() - start
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    # Linear and quadratic differ by 100x or more here: 32 MiB of blanks took 34 s before.
    assert seconds < 2, f"{family}: {seconds:.1f} s"
    assert peak < 8 * MIB, f"{family}: {peak / MIB:.1f} MiB held"  # a few reads, not the body


def test_a_zone_refuses_a_hostile_body_quickly(make_app):
    app = make_app()
    dropzone = app.extensions["dropzone"]

    @app.post("/")
    def upload():
        return {"saved": len(dropzone.save(max_file_size=3))}

    body = part("file", "j.bin") + b"x\r\n--B" + b" " * (16 * MIB) + b"Z\r\n--B--\r\n"
    start = time.perf_counter()
    response = app.test_client().post(
        "/", data=body, content_type="multipart/form-data; boundary=B"
    )
    assert time.perf_counter() - start < 2
    assert response.status_code == 400 and response.mimetype == "text/plain"
