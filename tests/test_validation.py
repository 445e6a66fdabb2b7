"""The server's rules: Dropzone's acceptedFiles and maxFilesize, on content, not claims."""

import pytest

from flask_dropzone import FileTooLarge, FileTypeRefused
from flask_dropzone.errors import BadUpload
from flask_dropzone.settings import resolve
from flask_dropzone.sniffing import identify
from flask_dropzone.validation import AcceptRules, check_count, check_size, check_type

PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + b"\x00" * 64
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x00" * 64
PDF = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n"
ZIP = b"PK\x03\x04" + b"\x00" * 64
HTML = b"<!DOCTYPE html><html><script>alert(1)</script></html>"
SCRIPT = b"#!/bin/sh\nrm -rf ~\n"


def options(**kwargs):
    return resolve({}, kwargs)


IMAGES = options(allowed_file_type="image")
CUSTOM = options(allowed_file_custom=True, allowed_file_type=".pdf, .TXT, text/csv, image/*")


@pytest.mark.parametrize(
    "name, head, rules, accepted",
    [
        ("photo.png", PNG, IMAGES, True),
        ("PHOTO.PNG", PNG, IMAGES, True),
        ("photo", PNG, IMAGES, True),  # no extension: the content says it is a picture
        ("photo.jpg", PNG, IMAGES, True),  # a PNG named .jpg is still a picture
        ("page.png", HTML, IMAGES, False),  # HTML renamed .png
        ("run.png", SCRIPT, IMAGES, False),  # a script renamed .png
        ("x.png.html", HTML, IMAGES, False),
        ("x.png.html", PNG, IMAGES, False),  # picture bytes under an .html name
        ("empty.png", b"", IMAGES, False),
        ("notes.txt", b"hello", IMAGES, False),
        ("report.pdf", PDF, CUSTOM, True),
        ("fake.pdf", b"hello", CUSTOM, False),
        ("notes.txt", b"hello", CUSTOM, True),  # no magic bytes: judged by its name
        ("NOTES.Txt", b"hello", CUSTOM, True),  # extensions are case-insensitive
        ("notes.txt", PNG, CUSTOM, False),  # a picture named .txt
        ("table.csv", b"a,b\n1,2\n", CUSTOM, True),  # exact MIME type text/csv
        ("page.html", HTML, CUSTOM, False),
        ("shot.jpeg", JPEG, CUSTOM, True),
        ("archive.zip", ZIP, CUSTOM, False),
        ("anything", HTML, options(), True),  # the default type accepts every file
        ("page.png", HTML, options(), True),
    ],
)
def test_type_rules(name, head, rules, accepted):
    if accepted:
        check_type(name, head, rules)
    else:
        with pytest.raises(FileTypeRefused) as refused:
            check_type(name, head, rules)
        assert refused.value.code == 415
        assert refused.value.description == "You can't upload files of this type."


def test_identified_type_comes_from_content():
    assert identify("photo.jpg", PNG) == ("image/png", True)
    assert identify("table.csv", b"a,b") == ("text/csv", True)
    assert identify("archive.tar.gz", b"\x1f\x8b\x08\x00" + b"\x00" * 20) == ("application/gzip", True)
    assert identify("data", b"\x00\x01") == ("application/octet-stream", True)
    assert identify("page.png", HTML) == ("image/png", False)


def test_rules_parse_like_dropzone():
    rules = AcceptRules.parse("image/*, .PDF ,application/json")
    assert rules == AcceptRules(extensions=(".pdf",), families=("image",), types=("application/json",))
    assert AcceptRules.parse(None) is None and AcceptRules.parse("") is None
    assert rules.allows("X.pdf", "application/octet-stream")
    assert not rules.allows("pdf", "application/octet-stream")


def test_size_limit_in_mib_with_fractions():
    half = options(max_file_size=0.5)
    check_size(512 * 1024, half)
    with pytest.raises(FileTooLarge) as refused:
        check_size(512 * 1024 + 1, half)
    assert refused.value.code == 413
    assert refused.value.description == "File is too big 0.5. Max filesize: 0.5MiB."
    check_size(10**12, options(max_file_size=None))


def test_size_message_is_filled_in_like_dropzones():
    message = options(max_file_size=3, file_too_big="{{filesize}} > {{maxFilesize}}")
    with pytest.raises(FileTooLarge) as refused:
        check_size(int(5.25 * 1024 * 1024), message)
    assert refused.value.description == "5.25 > 3"


def test_count_limit():
    check_count(3, options(max_files=3))
    check_count(1000, options())
    with pytest.raises(BadUpload) as refused:
        check_count(4, options(max_files=3, max_file_exceeded="Too many!"))
    assert (refused.value.code, refused.value.description) == (400, "Too many!")


def test_refusals_are_plain_text_responses():
    response = FileTooLarge("Too big.").get_response()
    assert response.status_code == 413
    assert response.mimetype == "text/plain"
    assert response.get_data(as_text=True) == "Too big."


def test_without_the_sniff_extra_types_come_from_names_with_a_warning(monkeypatch):
    from flask_dropzone import sniffing, validation

    monkeypatch.setattr(sniffing, "filetype", None)
    validation._warn_unsniffed.cache_clear()
    with pytest.warns(RuntimeWarning, match=r"Flask-Dropzone\[sniff\]"):
        assert check_type("page.png", HTML, IMAGES) == "image/png"  # the name is all it knows
    with pytest.raises(FileTypeRefused):
        check_type("notes.txt", b"text", IMAGES)
