"""The browser's rules, checked again on the server from the same settings.

``acceptedFiles`` means what it means to Dropzone (``.ext`` name suffix,
case-insensitive; ``type/*``; exact ``type/subtype`` of the type the name
gives), and the content must not contradict the name; sizes are MiB like
Dropzone's ``maxFilesize``.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Optional

from ..errors import BadUpload, FileTooLarge, FileTypeRefused
from . import messages, metadata, sniffing
from .settings import Options

MIB = 1024 * 1024


@dataclass(frozen=True)
class AcceptRules:
    extensions: tuple[str, ...]
    families: tuple[str, ...]
    types: tuple[str, ...]

    @classmethod
    @lru_cache(maxsize=64)
    def parse(cls, accepted: Optional[str]) -> Optional["AcceptRules"]:
        """Rules of an ``acceptedFiles`` string; None when it accepts everything."""
        if not accepted:
            return None
        rules = [rule.strip().lower() for rule in accepted.split(",") if rule.strip()]
        return cls(
            extensions=tuple(rule for rule in rules if rule.startswith(".")),
            families=tuple(rule[:-2] for rule in rules if rule.endswith("/*")),
            types=tuple(rule for rule in rules if "/" in rule and not rule.endswith("/*")),
        )

    def allows(self, filename: str, mimetype: str) -> bool:
        name = filename.lower()
        return (
            name.endswith(self.extensions)
            or mimetype.split("/")[0] in self.families
            or mimetype in self.types
        )


def size_limit(options: Options) -> Optional[int]:
    """Largest accepted file in bytes, or None."""
    return None if options.max_file_size is None else int(options.max_file_size * MIB)


def too_large(size: int, options: Options) -> FileTooLarge:
    """The refusal Dropzone itself would show, with the sizes filled in as it does."""
    return FileTooLarge(messages.too_big(options.file_too_big, size, options))


def type_refused(options: Options) -> FileTypeRefused:
    return FileTypeRefused(messages.fill(options.invalid_file_type, options))


def content_refused(name: str, options: Options) -> FileTypeRefused:
    """A file of an allowed name whose content is another kind: said as such, not as a type
    the zone does not take."""
    kind = name.rpartition(".")[2].upper() if "." in name else name
    return FileTypeRefused(
        messages.fill(options.content_mismatch, options).replace("{{type}}", kind)
    )


def check_size(size: int, options: Options) -> None:
    limit = size_limit(options)
    if limit is not None and size > limit:
        raise too_large(size, options)


def check_count(count: int, options: Options) -> None:
    if options.max_files is not None and count > options.max_files:
        raise BadUpload(messages.fill(options.max_file_exceed, options))


def check_name(name: str, options: Options) -> None:
    """Refuse a file whose (safe) name the zone does not allow, as the browser does:
    by its suffix or by the type the name gives (a name of unknown type has none)."""
    rules = AcceptRules.parse(options.accepted_files)
    if rules is not None and not rules.allows(name, sniffing.type_by_name(name) or ""):
        raise type_refused(options)


def _content_agrees(name: str, by_content: Optional[str]) -> bool:
    """Whether content of type ``by_content`` (None: unknown) may carry ``name``."""
    if by_content is None:
        return not sniffing.has_signature(name)  # a .png that does not start like one
    by_name = sniffing.type_by_name(name)
    return by_name is None or sniffing.agree(by_name, by_content)


def check_type(name: str, head: bytes, options: Options) -> str:
    """The file's type, from its content where that can be told, else from its name.

    ``name`` is the safe name it will be stored under. In a typed zone the name
    must be allowed (:func:`check_name`) and the content must agree with it. While
    ``strip_metadata`` is on, an image whose metadata cannot be removed is refused.
    """
    check_name(name, options)
    by_content = sniffing.type_by_content(head)
    if options.accepted_files and not _content_agrees(name, by_content):
        raise content_refused(name, options)
    detected = by_content or sniffing.type_by_name(name) or "application/octet-stream"
    if options.strip_metadata and metadata.refuses(detected):
        raise FileTypeRefused(metadata.UNSTRIPPABLE_MESSAGE)
    return detected
