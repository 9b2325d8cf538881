"""The exporter protocol: a name, the file extensions it owns, and ``write(profile, out)``.

After pyinstrument's renderers (``renderers/base.py``): options go to the constructor,
the exporter writes a finished Profile and never reads input.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import BinaryIO, ClassVar, Literal, get_args

from jitprof.model import CPU_TIME_EVENTS, SYNTHETIC_EVENTS, Kind, Profile

# weights of these are nanoseconds (off-cpu, wall: made from context switches, issue 17)
CLOCK_EVENTS = (*CPU_TIME_EVENTS, *SYNTHETIC_EVENTS)
# the formats (one Exporter each, EXPORTERS) and what a stack weighs: its period, 1 per
# sample, or auto (period when the input has periods, as report does)
ExportFormat = Literal["folded", "speedscope", "pprof", "json", "svg", "html"]
Weight = Literal["auto", "period", "samples"]
EXPORT_FORMATS: tuple[ExportFormat, ...] = get_args(ExportFormat)
WEIGHTS: tuple[Weight, ...] = get_args(Weight)
# code a JIT generated (flamegraph's "_[j]")
JIT_KINDS = (Kind.PHP, Kind.HHVM, Kind.JIT, Kind.JAVA, Kind.JVM)


@dataclass(frozen=True, slots=True)
class ExportOptions:
    """``weight``: "period", "samples" or "auto" (period when the input had periods, as
    report does). ``per_thread``: split by (pid, comm) where the format can.
    ``annotate``: mark kinds in names where the format has a convention (folded).
    Flame graphs (svg, html): ``icicle`` puts the root at the top; ``width`` pixels of
    frames; children narrower than ``minwidth`` pixels are merged."""

    weight: Weight = "auto"
    per_thread: bool | None = None  # None: the format's default
    annotate: bool = False
    icicle: bool = False
    width: int = 1200
    minwidth: float = 0.1

    def by_period(self, profile: Profile) -> bool:
        """Whether weights are periods: never for a profile without periods (its weights
        are 1 per sample; the CLI refuses ``--weight period`` for it)."""
        return profile.diagnostics.has_period and self.weight != "samples"


def is_clock_event(event: str) -> bool:
    return event.split(":")[0].split("/")[0] in CLOCK_EVENTS


def weight_unit(profile: Profile, by_period: bool) -> str:
    """What a weight counts: "nanoseconds" for periods of a clock event, "period" for
    periods of another event (cycles, instructions...), else "samples"."""
    if not by_period:
        return "samples"
    return "nanoseconds" if is_clock_event(profile.event) else "period"


class Exporter:
    """Subclasses set ``name``, ``extensions`` (lower case, longest match wins when
    guessing), ``binary`` (not for a terminal) and implement ``write``."""

    name: ClassVar[ExportFormat]
    extensions: ClassVar[tuple[str, ...]] = ()
    binary: ClassVar[bool] = False
    description: ClassVar[str] = ""

    def __init__(self, options: ExportOptions | None = None) -> None:
        self.options = options or ExportOptions()

    def write(self, profile: Profile, out: BinaryIO) -> None:
        raise NotImplementedError

    def render(self, profile: Profile) -> bytes:
        import io

        buf = io.BytesIO()
        self.write(profile, buf)
        return buf.getvalue()
