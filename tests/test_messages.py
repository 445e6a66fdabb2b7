"""Messages say what a zone allows, with the same words and units in the browser and on the server."""

from __future__ import annotations

import pytest
from markupsafe import Markup

from flask_dropzone import messages, render
from flask_dropzone.settings import RASTER_IMAGES, resolve
from flask_dropzone.validation import too_large


@pytest.mark.parametrize(
    "accepted, said",
    [
        (None, ""),
        (".pdf,.txt, .csv", ".pdf, .txt, .csv"),
        ("image/*,audio/*", "image/*, audio/*"),
        ("image/png,.PNG,image/jpeg", ".png, .jpg"),  # one name once, as the browser compares: lower case
        (RASTER_IMAGES, ".png, .jpg, .gif, .webp, .avif, .bmp, .tiff, .heic, .heif, .ico"),
        ("application/x-unheard-of", "application/x-unheard-of"),  # nothing better to say
        ("application/x-unheard-of,.zip", ".zip"),
    ],
)
def test_accepted_types_are_said_as_people_read_them(accepted, said):
    assert messages.accepted_for_people(accepted) == said


def test_placeholders_are_filled_from_the_zone_settings():
    options = resolve({}, {"allowed_file_custom": True, "allowed_file_type": ".pdf", "max_file_size": 2.5, "max_files": 3})
    text = "{{acceptedFiles}} | {{maxFilesize}} | {{maxFiles}} | {{filesize}} | {{statusCode}} | {{other}}"
    assert messages.fill(text, options) == ".pdf | 2.5 | 3 | {{filesize}} | {{statusCode}} | {{other}}"


def test_a_markup_message_gets_its_values_escaped():
    options = resolve({}, {"allowed_file_custom": True, "allowed_file_type": ".a<b"})
    filled = messages.fill(Markup("<b>Only</b> {{acceptedFiles}}"), options)
    assert isinstance(filled, Markup) and str(filled) == "<b>Only</b> .a&lt;b"


def test_the_browser_and_the_server_say_the_same_refusals():
    options = resolve({}, {"allowed_file_type": "image", "max_file_size": 1, "max_files": 2})
    browser = render.dropzone_options(options)
    assert browser["dictInvalidFileType"] == "You can't upload files of this type. Allowed: " + messages.accepted_for_people(RASTER_IMAGES) + "."
    assert browser["dictMaxFilesExceeded"] == "You can't upload any more files (at most 2)."
    # Dropzone fills {{filesize}} from the file, in MiB to two places, as the server does
    assert browser["dictFileTooBig"] == "File is too big ({{filesize}} MiB). Max filesize: 1 MiB."
    assert too_large(int(5.61 * 1024 * 1024), options).description == "File is too big (5.61 MiB). Max filesize: 1 MiB."
    # and previews give sizes in the same binary units
    assert browser["filesizeBase"] == 1024 and browser["dictFileSizeUnits"]["mb"] == "MiB"
