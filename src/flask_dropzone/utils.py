"""Helpers Flask-Dropzone 2.0.0 exposed as ``flask_dropzone.utils``."""

from __future__ import annotations

from typing import Any, Optional

from flask import url_for

from ._rules.filenames import random_filename

__all__ = ["get_url", "random_filename"]


def get_url(endpoint_or_url: str, **values: Any) -> Optional[str]:
    """Return ``endpoint_or_url`` if it is a URL, else build one for the endpoint."""
    if endpoint_or_url == "":
        return None
    if endpoint_or_url.startswith(("https://", "http://", "/")):
        return endpoint_or_url
    return url_for(endpoint_or_url, **values)
