"""Messages say what a zone allows, with the same words and units in the browser and on the server."""

from __future__ import annotations

import pytest
from markupsafe import Markup

from flask_dropzone._rules import messages, render
from flask_dropzone._rules.settings import RASTER_IMAGES, resolve
from flask_dropzone._rules.validation import too_large


@pytest.mark.parametrize(
    "accepted, said",
    [
        (None, ""),
        (".pdf,.txt, .csv", ".pdf, .txt, .csv"),
        ("image/*,audio/*", "image/*, audio/*"),
        (
            "image/png,.PNG,image/jpeg",
            ".png, .jpg",
        ),  # one name once, as the browser compares: lower case
        (RASTER_IMAGES, ".png, .jpg, .gif, .webp, .avif, .bmp, .tiff, .heic, .heif, .ico"),
        ("application/x-unheard-of", "application/x-unheard-of"),  # nothing better to say
        ("application/x-unheard-of,.zip", ".zip"),
    ],
)
def test_accepted_types_are_said_as_people_read_them(accepted, said):
    assert messages.accepted_for_people(accepted) == said


def test_placeholders_are_filled_from_the_zone_settings():
    options = resolve(
        {},
        {
            "allowed_file_custom": True,
            "allowed_file_type": ".pdf",
            "max_file_size": 2.5,
            "max_files": 3,
        },
    )
    text = "{{acceptedFiles}} | {{maxFilesize}} | {{maxFiles}} | {{filesize}} | {{statusCode}} | {{other}}"
    assert (
        messages.fill(text, options) == ".pdf | 2.5 | 3 | {{filesize}} | {{statusCode}} | {{other}}"
    )


def test_a_markup_message_gets_its_values_escaped():
    options = resolve({}, {"allowed_file_custom": True, "allowed_file_type": ".a<b"})
    filled = messages.fill(Markup("<b>Only</b> {{acceptedFiles}}"), options)
    assert isinstance(filled, Markup) and str(filled) == "<b>Only</b> .a&lt;b"


def test_the_browser_and_the_server_say_the_same_refusals():
    options = resolve({}, {"allowed_file_type": "image", "max_file_size": 1, "max_files": 2})
    browser = render.dropzone_options(options)
    assert (
        browser["dictInvalidFileType"]
        == "You can't upload files of this type. Allowed: "
        + messages.accepted_for_people(RASTER_IMAGES)
        + "."
    )
    assert browser["dictMaxFilesExceeded"] == "You can't upload any more files (at most 2)."
    # Dropzone fills {{filesize}} from the file, in MiB to two places, as the server does
    assert browser["dictFileTooBig"] == "File is too big ({{filesize}} MiB). Max filesize: 1 MiB."
    assert (
        too_large(int(5.61 * 1024 * 1024), options).description
        == "File is too big (5.61 MiB). Max filesize: 1 MiB."
    )
    # and previews give sizes in the same binary units
    assert browser["filesizeBase"] == 1024 and browser["dictFileSizeUnits"]["mb"] == "MiB"


@pytest.mark.parametrize(
    "settings, said",
    [
        (
            {},
            "Drop files here or click to upload. Max filesize: 3 MiB.",
        ),  # the default takes every type
        ({"max_file_size": None}, "Drop files here or click to upload."),  # nothing to state
        (
            {"allowed_file_type": "web_image", "max_file_size": 5, "max_files": 3},
            "Drop files here or click to upload. Allowed: Images (JPEG, PNG, GIF, WebP, AVIF). "
            "Max filesize: 5 MiB. Max files: 3.",
        ),
        (
            {"allowed_file_type": "image", "max_file_size": 0.5},
            "Drop files here or click to upload. Allowed: Images (PNG, JPEG, GIF, WebP, AVIF, BMP, TIFF, "
            "HEIC/HEIF, ICO). Max filesize: 0.5 MiB.",
        ),
        (
            {
                "allowed_file_custom": True,
                "allowed_file_type": ".pdf, text/csv",
                "max_file_size": None,
                "max_files": 1,
            },
            "Drop files here or click to upload. Allowed: .pdf, .csv. Max files: 1.",
        ),
    ],
)
def test_the_empty_zone_states_its_rules_by_default(settings, said):
    options = resolve({}, settings)
    assert messages.fill(options.default_message, options) == said


def test_each_rule_is_worded_by_its_own_setting():
    config = {
        "DROPZONE_DEFAULT_MESSAGE": "Déposez vos fichiers ici. {{rules}}",
        "DROPZONE_RULE_FILE_TYPE": "Formats : {{acceptedFiles}}.",
        "DROPZONE_RULE_FILE_SIZE": "{{maxFilesize}} Mio au plus.",
        "DROPZONE_RULE_MAX_FILES": "",  # an empty one is not said
    }
    options = resolve(config, {"allowed_file_type": "web_image", "max_files": 2})
    said = "Déposez vos fichiers ici. Formats : .jpg, .png, .gif, .webp, .avif. 3 Mio au plus."
    assert messages.fill(options.default_message, options) == said
    assert messages.fill(
        "{{fileTypes}} | {{rules}}",
        resolve({}, {"allowed_file_type": "audio", "max_file_size": None}),
    ) == ("Audio files | Allowed: Audio files.")


def test_a_message_the_app_sets_is_shown_as_it_is():
    for config in (
        {"DROPZONE_DEFAULT_MESSAGE": "Drop files here or click to upload."},
        {"DROPZONE_DEFAULT_MESSAGE": "Hi"},
    ):
        options = resolve(config, {"allowed_file_type": "image", "max_files": 3})
        assert messages.fill(options.default_message, options) == config["DROPZONE_DEFAULT_MESSAGE"]


def test_rules_in_a_markup_message_are_escaped_unless_they_are_markup():
    options = resolve(
        {}, {"allowed_file_custom": True, "allowed_file_type": ".a<b", "max_file_size": None}
    )
    filled = messages.fill(Markup("<b>Drop</b> {{rules}}"), options)
    assert isinstance(filled, Markup) and str(filled) == "<b>Drop</b> Allowed: .a&lt;b."
    trusted = resolve({}, {"rule_file_size": Markup("<i>{{maxFilesize}} MiB</i>"), "max_files": 2})
    assert str(messages.fill(Markup("{{rules}}"), trusted)) == "<i>3 MiB</i> Max files: 2."
