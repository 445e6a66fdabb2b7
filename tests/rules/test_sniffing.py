"""Whether a file's content may carry its name: the rules behind type checks."""

from __future__ import annotations

import pytest

from flask_dropzone._rules import sniffing


@pytest.mark.parametrize(
    ("by_name", "by_content", "expected"),
    [
        ("image/png", "image/png", True),
        ("image/jpeg", "image/png", True),  # a picture saved under another picture's extension
        ("image/png", "application/zip", False),
        ("application/zip", "image/png", False),
        ("text/plain", "application/x-msdownload", False),
        (
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
            "application/zip",
            True,
        ),
        ("application/zip", "application/epub+zip", True),
        ("application/java-archive", "application/zip", True),
        ("application/pdf", "application/zip", False),
        ("audio/mpeg", "video/mp4", False),
    ],
)
def test_content_and_name_agree_only_when_one_could_be_the_other(by_name, by_content, expected):
    assert sniffing.agree(by_name, by_content) is expected
