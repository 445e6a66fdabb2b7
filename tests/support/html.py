"""Reading what a page holds: its elements, and the zone configurations config() wrote."""

from __future__ import annotations

import json
from html.parser import HTMLParser


class Elements(HTMLParser):
    """Every element of a fragment as (tag, attrs, text)."""

    def __init__(self, html: str) -> None:
        super().__init__(convert_charrefs=True)
        self.elements: list[tuple[str, dict, str]] = []
        self._open: list[int] = []
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        self.elements.append((tag, dict(attrs), ""))
        if tag not in ("link", "input", "meta", "br", "img"):
            self._open.append(len(self.elements) - 1)

    def handle_endtag(self, tag):
        if self._open:
            self._open.pop()

    def handle_data(self, data):
        if self._open:
            tag, attrs, text = self.elements[self._open[-1]]
            self.elements[self._open[-1]] = (tag, attrs, text + data)


def parse(html) -> list[tuple[str, dict, str]]:
    return Elements(str(html)).elements


def zone_configs(html) -> list[dict]:
    """The JSON configuration blocks config() emitted, decoded."""
    return [
        json.loads(text)
        for tag, attrs, text in parse(html)
        if tag == "script"
        and attrs.get("type") == "application/json"
        and "data-dropzone-config" in attrs
    ]


def zone_config(html) -> dict:
    (config,) = zone_configs(html)
    return config
