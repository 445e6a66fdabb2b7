"""The server's rules: Dropzone's acceptedFiles and maxFilesize, on content, not claims."""

import pytest

from flask_dropzone import FileTooLarge, FileTypeRefused
from flask_dropzone._rules import messages
from flask_dropzone._rules.settings import resolve
from flask_dropzone._rules.validation import (
    AcceptRules,
    check_count,
    check_name,
    check_size,
    check_type,
)
from flask_dropzone.errors import BadUpload

PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + b"\x00" * 64
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x00" * 64
PDF = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n"
ZIP = b"PK\x03\x04" + b"\x00" * 64
HTML = b"<!DOCTYPE html><html><script>alert(1)</script></html>"
SCRIPT = b"#!/bin/sh\nrm -rf ~\n"


def options(**kwargs):
    return resolve({}, kwargs)


IMAGES = options(allowed_file_type="image")
WEB = options(allowed_file_type="web_image")
AVIF = b"\x00\x00\x00\x1cftypavif\x00\x00\x00\x00avifmif1miaf" + b"\x00" * 32
HEIC = b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00heicmif1" + b"\x00" * 32
CUSTOM = options(allowed_file_custom=True, allowed_file_type=".pdf, .TXT, text/csv, image/*")


@pytest.mark.parametrize(
    "name, head, rules, accepted",
    [
        ("photo.png", PNG, IMAGES, True),
        ("PHOTO.PNG", PNG, IMAGES, True),
        ("photo", PNG, IMAGES, False),  # no extension: the browser refuses it too (no type)
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
        # A name whose type is unknown is not an allowed type, whatever the content.
        ("shell.png.php", PNG, IMAGES, False),
        ("shell.phtml", PNG, IMAGES, False),
        ("page.xhtml", PNG, IMAGES, False),
        ("ssi.shtml", PNG, IMAGES, False),
        ("run.hta", PNG, IMAGES, False),
        ("shell.php.png", PNG, IMAGES, True),  # the last extension is the one that counts
        # An image zone is for raster images: SVG runs script when opened, unless asked for by name.
        ("drawing.svg", b"<svg xmlns='http://www.w3.org/2000/svg'/>", IMAGES, False),
        (
            "drawing.svg",
            b"<svg/>",
            options(allowed_file_custom=True, allowed_file_type="image/svg+xml"),
            True,
        ),
        ("photo.webp", b"RIFF\x00\x00\x00\x00WEBPVP8 " + b"\x00" * 32, IMAGES, True),
        ("icon.ico", b"\x00\x00\x01\x00" + b"\x00" * 32, IMAGES, True),
        ("scan.tiff", b"II*\x00" + b"\x00" * 32, IMAGES, True),
        ("photo.gif", b"GIF89a" + b"\x00" * 32, IMAGES, True),
        # web_image: what browsers show in an <img>, and nothing else.
        ("photo.jpeg", JPEG, WEB, True),
        ("PHOTO.PNG", PNG, WEB, True),
        ("photo.gif", b"GIF89a" + b"\x00" * 32, WEB, True),
        ("photo.webp", b"RIFF\x00\x00\x00\x00WEBPVP8 " + b"\x00" * 32, WEB, True),
        ("photo.avif", AVIF, WEB, True),
        ("photo.avif", AVIF, IMAGES, True),
        ("photo.heic", HEIC, WEB, False),
        ("photo.heic", HEIC, IMAGES, True),
        ("scan.tiff", b"II*\x00" + b"\x00" * 32, WEB, False),
        ("paint.bmp", b"BM" + b"\x00" * 32, WEB, False),
        ("icon.ico", b"\x00\x00\x01\x00" + b"\x00" * 32, WEB, False),
        ("drawing.svg", b"<svg xmlns='http://www.w3.org/2000/svg'/>", WEB, False),
        ("page.png", HTML, WEB, False),
        ("notes.md", b"# hi", options(allowed_file_type="text"), False),  # no type for .md here
        ("notes.md", b"# hi", options(allowed_file_custom=True, allowed_file_type=".md"), True),
        ("blob.dat", PNG, options(allowed_file_custom=True, allowed_file_type=".dat"), True),
    ],
)
def test_type_rules(name, head, rules, accepted):
    if accepted:
        check_type(name, head, rules)
    else:
        with pytest.raises(FileTypeRefused) as refused:
            check_type(name, head, rules)
        assert refused.value.code == 415
        allowed = messages.accepted_for_people(rules.accepted_files)
        try:
            check_name(name, rules)
        except FileTypeRefused:  # a name the zone does not take
            assert (
                refused.value.description
                == f"You can't upload files of this type. Allowed: {allowed}."
            )
        else:  # an allowed name on other content: said as such
            kind = name.rpartition(".")[2].upper()
            assert refused.value.description == f"Its name says {kind}, but its content is not."


def test_a_program_named_like_a_picture_reads_as_a_contradiction():
    with pytest.raises(FileTypeRefused) as refused:
        check_type("holiday.png", b"MZ\x90\x00" + b"\x00" * 60, IMAGES)
    assert refused.value.description == "Its name says PNG, but its content is not."
    custom = options(
        allowed_file_type="image", content_mismatch="Not a real {{type}} ({{acceptedFiles}} only)."
    )
    with pytest.raises(FileTypeRefused, match=r"Not a real JPEG \(\.png, \.jpg"):
        check_type("a.jpeg", b"MZ\x90\x00" + b"\x00" * 60, custom)


def test_the_type_reported_comes_from_content_then_name():
    assert check_type("photo.jpg", PNG, IMAGES) == "image/png"
    assert check_type("table.csv", b"a,b", options()) == "text/csv"
    assert (
        check_type("archive.tar.gz", b"\x1f\x8b\x08\x00" + b"\x00" * 20, options())
        == "application/gzip"
    )
    assert check_type("data", b"\x00\x01", options()) == "application/octet-stream"
    assert check_type("page.png", HTML, options()) == "image/png"


def test_check_name_refuses_before_any_byte():
    check_name("a.PNG", IMAGES)
    check_name("anything", options())
    for name in ("a.txt", "noext", "a.png.php"):
        with pytest.raises(FileTypeRefused):
            check_name(name, IMAGES)


def test_rules_parse_like_dropzone():
    rules = AcceptRules.parse("image/*, .PDF ,application/json")
    assert rules == AcceptRules(
        extensions=(".pdf",), families=("image",), types=("application/json",)
    )
    assert AcceptRules.parse(None) is None and AcceptRules.parse("") is None
    assert rules.allows("X.pdf", "application/octet-stream")
    assert not rules.allows("pdf", "application/octet-stream")


def test_size_limit_in_mib_with_fractions():
    half = options(max_file_size=0.5)
    check_size(512 * 1024, half)
    with pytest.raises(FileTooLarge) as refused:
        check_size(512 * 1024 + 1, half)
    assert refused.value.code == 413
    # one byte over reads as over: rounded up where rounding would say the limit itself
    assert refused.value.description == "File is too big (0.51 MiB). Max filesize: 0.5 MiB."
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


def test_sniffing_is_on_with_a_plain_install():
    # filetype is a core dependency: an HTML page named .png is refused, with no warning.
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(FileTypeRefused):
            check_type("evil.png", HTML, IMAGES)
