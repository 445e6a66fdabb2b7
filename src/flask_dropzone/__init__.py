"""Dropzone.js drag-and-drop uploads for Flask."""

from .extension import Dropzone
from .filenames import random_filename, safe_filename
from .settings import SettingError, allowed_file_extensions
from .utils import get_url

__version__ = "3.0.0.dev0"

__all__ = [
    "Dropzone",
    "SettingError",
    "allowed_file_extensions",
    "get_url",
    "random_filename",
    "safe_filename",
]
