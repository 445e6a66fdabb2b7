"""The chunk protocol's checks, on the fields alone."""

import pytest

from flask_dropzone._rules.chunks import (
    BadChunk,
    Chunk,
    Manifest,
    check_length,
    check_same_upload,
    parse,
)

UUID = "0c2f7a4e-5b1d-4c3a-9e8f-112233445566"


def fields(**changes):
    base = {
        "dzuuid": UUID,
        "dzchunkindex": "2",
        "dztotalfilesize": "2500",
        "dzchunksize": "1000",
        "dztotalchunkcount": "3",
        "dzchunkbyteoffset": "2000",
    }
    base.update(changes)
    return {key: value for key, value in base.items() if value is not None}


def test_a_consistent_chunk():
    chunk = parse(fields(), "a.bin", 1000)
    assert chunk == Chunk(UUID, 2, 2000, Manifest("a.bin", 2500, 1000, 3))
    assert chunk.length == 500  # the remainder, for the last chunk
    assert parse(fields(dzchunkindex="0", dzchunkbyteoffset="0"), "a.bin", 1000).length == 1000


@pytest.mark.parametrize(
    "changes",
    [
        {"dzuuid": "../../etc"},
        {"dzuuid": UUID + "/x"},
        {"dzuuid": UUID.upper().replace("-", "")},
        {"dzuuid": None},
        {"dzchunkindex": "-1"},
        {"dzchunkindex": "1e3"},
        {"dzchunkindex": " 2"},
        {"dzchunkindex": "3", "dzchunkbyteoffset": "3000"},  # index beyond the count
        {"dzchunkindex": None},
        {"dztotalfilesize": "99999999999999999999"},  # huge
        {"dztotalfilesize": "abc"},
        {"dzchunksize": "10"},  # not the server's chunk size
        {"dztotalchunkcount": "4"},  # does not match size / chunk size
        {"dztotalchunkcount": "0"},
        {"dzchunkbyteoffset": "1999"},
        {"dzchunkbyteoffset": None},
    ],
)
def test_hostile_or_inconsistent_fields_are_refused(changes):
    with pytest.raises(BadChunk) as refused:
        parse(fields(**changes), "a.bin", 1000)
    assert refused.value.code == 400


def test_an_empty_file_is_one_empty_chunk():
    chunk = parse(
        fields(dzchunkindex="0", dztotalfilesize="0", dztotalchunkcount="1", dzchunkbyteoffset="0"),
        "e",
        1000,
    )
    assert chunk.length == 0 and chunk.manifest.count == 1


def test_exact_multiple_of_the_chunk_size():
    chunk = parse(fields(dztotalfilesize="3000"), "a.bin", 1000)
    assert chunk.length == 1000


def test_chunks_of_one_upload_must_agree():
    chunk = parse(fields(), "a.bin", 1000)
    check_same_upload(Manifest("a.bin", 2500, 1000, 3), chunk)
    for other in (Manifest("b.bin", 2500, 1000, 3), Manifest("a.bin", 2600, 1000, 3)):
        with pytest.raises(BadChunk):
            check_same_upload(other, chunk)


def test_length_checks():
    chunk = parse(fields(), "a.bin", 1000)
    assert check_length(chunk, 400, finished=False) is None
    assert "longer" in check_length(chunk, 501, finished=False)
    assert "instead of 500" in check_length(chunk, 400, finished=True)
    assert check_length(chunk, 500, finished=True) is None


def test_manifest_round_trip():
    manifest = Manifest("中文.bin", 5, 2, 3)
    assert Manifest.from_json(manifest.to_json()) == manifest
