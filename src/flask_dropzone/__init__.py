"""Dropzone.js drag-and-drop uploads for Flask."""

from ._protocol.parsing import UploadRequest
from ._protocol.uploads import SavedFile, Upload
from ._rules.filenames import random_filename, safe_filename
from ._rules.settings import allowed_file_extensions
from .errors import (
    AlreadyClaimed,
    BadUpload,
    FileTooLarge,
    FileTypeRefused,
    InsufficientStorage,
    NameTaken,
    SettingError,
    SomeFilesRefused,
    StoreUnavailable,
    UploadBusy,
    UploadExpired,
    UploadRefused,
)
from .extension import Dropzone
from .signals import file_deleted, file_stored, upload_refused
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
    "UploadRequest",
    "UploadRefused",
    "allowed_file_extensions",
    "file_deleted",
    "file_stored",
    "get_url",
    "random_filename",
    "safe_filename",
    "upload_refused",
]
