"""Dropzone.js drag-and-drop uploads for Flask."""

from .errors import (
    AlreadyClaimed,
    BadUpload,
    FileTooLarge,
    FileTypeRefused,
    InsufficientStorage,
    NameTaken,
    SomeFilesRefused,
    StoreUnavailable,
    UploadBusy,
    UploadExpired,
    UploadRefused,
)
from .extension import Dropzone
from .filenames import random_filename, safe_filename
from .settings import SettingError, allowed_file_extensions
from .signals import file_deleted, file_stored, upload_refused
from .uploads import SavedFile, Upload
from .utils import get_url

#: Flask-Dropzone 2.0.0's name for the object templates know as ``dropzone``; code
#: that imported it (its own tests, say) keeps working.
_Dropzone = Dropzone

__version__ = "3.0.0.dev0"

__all__ = [
    "AlreadyClaimed",
    "BadUpload",
    "Dropzone",
    "FileTooLarge",
    "FileTypeRefused",
    "InsufficientStorage",
    "NameTaken",
    "SavedFile",
    "SomeFilesRefused",
    "SettingError",
    "StoreUnavailable",
    "Upload",
    "UploadBusy",
    "UploadExpired",
    "UploadRefused",
    "allowed_file_extensions",
    "file_deleted",
    "file_stored",
    "get_url",
    "random_filename",
    "safe_filename",
    "upload_refused",
]
