"""Exporters of a Profile to other tools' formats, and the choice of one by file name."""

from __future__ import annotations

from jitprof.errors import UnknownFormatError
from jitprof.export.base import Exporter, ExportOptions
from jitprof.export.folded import FoldedExporter
from jitprof.export.html import HtmlExporter
from jitprof.export.jsonprofile import JsonProfileExporter
from jitprof.export.pprof import PprofExporter
from jitprof.export.speedscope import SpeedscopeExporter
from jitprof.export.svg import SvgExporter

EXPORTERS: tuple[type[Exporter], ...] = (
    FoldedExporter, SpeedscopeExporter, PprofExporter, JsonProfileExporter, SvgExporter,
    HtmlExporter,
)

__all__ = ["EXPORTERS", "ExportOptions", "Exporter", "exporter_named",
           "guess_exporter_from_outfile"]


def exporter_named(name: str) -> type[Exporter]:
    for e in EXPORTERS:
        if e.name == name:
            return e
    raise KeyError(name)


def guess_exporter_from_outfile(path: str) -> type[Exporter]:
    """The exporter owning the longest extension that ends ``path`` (".speedscope.json"
    beats ".json"); UnknownFormatError naming the known ones otherwise."""
    low = path.lower()
    best: tuple[int, type[Exporter]] | None = None
    for e in EXPORTERS:
        for ext in e.extensions:
            if low.endswith(ext) and (best is None or len(ext) > best[0]):
                best = (len(ext), e)
    if best is None:
        known = ", ".join(f"{ext} ({e.name})" for e in EXPORTERS for ext in e.extensions)
        raise UnknownFormatError(path, f"cannot tell the format from the file name; give "
                                       f"--format or one of: {known}")
    return best[1]
