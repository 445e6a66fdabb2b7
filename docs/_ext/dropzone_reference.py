"""Sphinx glue for the reference: the ``dropzone-settings`` directive writes the settings
table from the code (:mod:`settings_table`), each setting a target of the ``setting`` role:
``{setting}`DROPZONE_MAX_FILE_SIZE``` links to its row, and an unknown name fails the build."""

from __future__ import annotations

import re

from docutils import nodes
from docutils.parsers.rst import directives
from sphinx import addnodes
from sphinx.application import Sphinx
from sphinx.util.docutils import SphinxDirective

import settings_table

# ``literal`` text, or a word that is a setting's name without its prefix (MAX_FILE_SIZE).
_PIECE = re.compile(r"``(.+?)``|\b([A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+|[A-Z]{4,})\b")
HEADERS = {
    "zone": ("Setting", "Keyword", "Default", "Meaning", "Where"),
    "app": ("Setting", "Default", "Meaning", "Where"),
}
WIDTHS = {"zone": (25, 17, 20, 30, 8), "app": (28, 12, 50, 10)}


def target_id(name: str) -> str:
    return "setting-" + name.lower().replace("_", "-")


class SettingsTable(SphinxDirective):
    """``.. dropzone-settings::`` with ``:kind: zone`` (every keyword of a zone) or
    ``:kind: app`` (the app-wide settings)."""

    option_spec = {"kind": lambda value: directives.choice(value, ("zone", "app"))}

    def run(self) -> list[nodes.Node]:
        kind = self.options.get("kind", "zone")
        try:
            rows = settings_table.zone_rows() if kind == "zone" else settings_table.app_rows()
            names = {row.name for row in settings_table.zone_rows() + settings_table.app_rows()}
        except LookupError as error:  # a setting the code does not explain
            raise self.error(str(error)) from None
        table = nodes.table(classes=["dropzone-settings", "colwidths-given"])
        group = nodes.tgroup(cols=len(HEADERS[kind]))
        table += group
        for width in WIDTHS[kind]:
            group += nodes.colspec(colwidth=width)
        head = nodes.thead()
        head += self._row([nodes.Text(title) for title in HEADERS[kind]])
        body = nodes.tbody()
        for row in rows:
            body += self._row(self._cells(row, kind, names))
        group += head
        group += body
        return [table]

    def _cells(self, row: settings_table.Row, kind: str, names: set[str]) -> list[nodes.Node]:
        node_id = target_id(row.name)
        name = nodes.literal(row.name, row.name)
        target = nodes.target("", "", ids=[node_id])
        self.env.get_domain("std").note_object("setting", row.name, node_id, location=target)
        cells: list[nodes.Node] = [nodes.inline("", "", target, name)]
        if kind == "zone":
            cells.append(nodes.literal(row.keyword, row.keyword))
        cells.append(nodes.literal(row.default, row.default))
        cells.append(nodes.inline("", "", *self._meaning(row.meaning, names)))
        cells.append(nodes.Text(row.where))
        return cells

    def _meaning(self, text: str, names: set[str]) -> list[nodes.Node]:
        """The meaning's text, its ``literals`` as code and each setting it names linked."""
        out: list[nodes.Node] = []
        last = 0
        for match in _PIECE.finditer(text):
            word = match.group(2)
            full = settings_table.settings.PREFIX + word if word else None
            if word and full not in names and word not in names:
                continue
            out.append(nodes.Text(text[last : match.start()]))
            if match.group(1):
                out.append(nodes.literal(match.group(1), match.group(1)))
            else:
                setting = full if full in names else word
                link = nodes.reference("", "", internal=True, refid=target_id(setting))
                link += nodes.literal(word, word)
                out.append(link)
            last = match.end()
        out.append(nodes.Text(text[last:]))
        return out

    @staticmethod
    def _row(cells: list[nodes.Node]) -> nodes.row:
        row = nodes.row()
        for content in cells:
            entry = nodes.entry()
            entry += nodes.paragraph("", "", content)
            row += entry
        return row


class RefusalsTable(SphinxDirective):
    """``.. dropzone-refusals::``: each refusal the package exports, its status and the
    message it says unless given another, from the classes themselves."""

    def run(self) -> list[nodes.Node]:
        table = nodes.table(classes=["dropzone-refusals", "colwidths-given"])
        group = nodes.tgroup(cols=3)
        table += group
        for width in (30, 10, 60):
            group += nodes.colspec(colwidth=width)
        head, body = nodes.thead(), nodes.tbody()
        head += SettingsTable._row([nodes.Text(t) for t in ("Refusal", "Status", "Message")])
        for name, code, message in settings_table.refusals():
            link = addnodes.pending_xref(
                "", refdomain="py", reftype="exc", reftarget=f"flask_dropzone.{name}"
            )
            link += nodes.literal(name, name)
            said = nodes.Text(message) if message else nodes.emphasis("", "given where raised")
            body += SettingsTable._row([link, nodes.Text(str(code)), said])
        group += head
        group += body
        return [table]


def setup(app: Sphinx) -> dict[str, object]:
    app.add_crossref_type("setting", "setting", indextemplate="pair: %s; setting")
    app.add_directive("dropzone-settings", SettingsTable)
    app.add_directive("dropzone-refusals", RefusalsTable)
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}
