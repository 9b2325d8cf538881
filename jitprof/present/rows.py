"""The one row model of a profile's functions: every output (the report's table, JSON and CSV,
``top --stdio``, the TUI's hot table) lists these rows, in this order.

Order: the sort key first (numbers descending, texts ascending), then ties by self weight
and total weight (descending), name, dso (ascending), kind (``KIND_ORDER``). A profile's
frames are distinct in (name, kind, dso), so this is a total order: two outputs of one
profile never list tied functions differently, whatever order the profile interned them in.

Costs: ``function_rows`` is ``Profile.function_stats`` (cached on the profile) plus one row
per function and one sort (O(functions log functions)).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Literal, NamedTuple, get_args

from jitprof.model import KIND_ORDER, WALL, Frame, Kind, Profile

SortKey = Literal["self", "total", "samples", "kind", "function", "dso"]
SORT_KEYS: tuple[SortKey, ...] = get_args(SortKey)
_KIND_RANK = {k: i for i, k in enumerate(KIND_ORDER)}


class FunctionRow(NamedTuple):
    """One function of a profile: self (as the leaf) and total (anywhere on the stack, a
    sample once however often it recurses) weight and samples, and the weights as % of
    all the profile's weight. A wall profile (issue 17) also has the off-CPU part of the
    self and total weight (ns); the CPU part is the rest. ``frame_id``: the function's
    frame in its profile (-1 for a row made by hand).

    Immutable, and a NamedTuple rather than a frozen dataclass for the cost: one is made
    per function (377,466 on a large recording, when the TUI loads) and a frozen
    dataclass's ``__init__`` (one ``object.__setattr__`` per field) takes ~6x as long."""

    name: str
    kind: Kind
    dso: str
    self_weight: int
    total_weight: int
    self_samples: int  # the report's Self#
    total_samples: int  # the report's Total#
    self_pct: float
    total_pct: float
    full_names: tuple[str, ...] = ()  # C++ names named from ELF: the forms with parameters
    versions: int = 0  # distinct pieces of JIT code named as this (compiled versions), if > 1
    off_self: int | None = None  # None: not a profile split into CPU and off-CPU time
    off_total: int | None = None
    off_total_pct: float = 0.0  # off_total, % of the profile's weight
    frame_id: int = -1

    @property
    def frame(self) -> Frame:
        return Frame(self.name, self.kind, self.dso)

    @property
    def split(self) -> bool:
        """The row has CPU and off-CPU columns (a wall profile)."""
        return self.off_total is not None

    @property
    def cpu_self(self) -> int:
        return self.self_weight - (self.off_self or 0)

    @property
    def cpu_total(self) -> int:
        return self.total_weight - (self.off_total or 0)

    @property
    def cpu_total_pct(self) -> float:
        return self.total_pct - self.off_total_pct


def pct(part: int, whole: int) -> float:
    """``part`` as % of ``whole``; 0 of nothing."""
    return 100.0 * part / whole if whole else 0.0


def profile_rows(profile: Profile) -> list[FunctionRow]:
    """One row per function with any weight or samples, in the profile's frame order
    (unsorted: ``function_rows`` sorts)."""
    total = profile.weight or 1  # (a % of no weight is 0)
    d = profile.diagnostics
    split = bool(d.off_cpu_total) or (profile.event == WALL and bool(d.off_cpu))
    frames = profile.frames
    full, versions = profile.full_names, profile.versions
    rows = []
    # one pass per function (hundreds of thousands on a large profile): no calls but
    # the row's, the percentages written out as ``pct`` computes them
    for st in profile.function_stats():
        fid, sw, tw = st.frame_id, st.self_weight, st.total_weight
        f = frames[fid]
        off_self = off_total = None
        off_pct = 0.0
        if split:
            key = f"{f.kind.value}\t{f.dso}\t{f.name}"  # (jitprof.resolve.offcpu.function_key)
            off_self, off_total = d.off_cpu_self.get(key, 0), d.off_cpu_total.get(key, 0)
            off_pct = 100.0 * off_total / total
        rows.append(FunctionRow(
            f.name, f.kind, f.dso, sw, tw, st.self_samples, st.total_samples,
            100.0 * sw / total, 100.0 * tw / total, full.get(fid, ()), versions.get(fid, 0),
            off_self, off_total, off_pct, fid))
    return rows


def sort_key(sort: SortKey) -> Callable[[FunctionRow], tuple[object, ...]]:
    """The key that orders rows by ``sort`` (one of ``SORT_KEYS``), ties broken as the
    module says; ValueError for another sort."""
    def tail(r: FunctionRow) -> tuple[object, ...]:
        return (-r.self_weight, -r.total_weight, r.name, r.dso, _KIND_RANK[r.kind])

    if sort == "self":
        return tail
    if sort == "total":
        return lambda r: (-r.total_weight, *tail(r))
    if sort == "samples":
        return lambda r: (-r.self_samples, -r.total_samples, *tail(r))
    if sort == "kind":
        return lambda r: (_KIND_RANK[r.kind], *tail(r))
    if sort == "function":
        return lambda r: (r.name, r.dso, *tail(r))
    if sort == "dso":
        return lambda r: (r.dso, *tail(r))
    raise ValueError(f"unknown sort {sort!r}; one of {', '.join(SORT_KEYS)}")


def sort_rows(rows: Sequence[FunctionRow], sort: SortKey = "self") -> list[FunctionRow]:
    """``rows`` in the one order (a new list)."""
    return sorted(rows, key=sort_key(sort))


def function_rows(profile: Profile, sort: SortKey = "self", kinds: Sequence[Kind] = (),
                  top: int | None = None) -> list[FunctionRow]:
    """The profile's functions sorted by ``sort``, only those of ``kinds`` if given, the
    first ``top`` if given (0 or None: all). Percentages are of all the profile's weight."""
    rows = profile_rows(profile)
    if kinds:
        rows = [r for r in rows if r.kind in kinds]
    rows.sort(key=sort_key(sort))
    return rows[:top] if top else rows


def kind_summary(profile: Profile) -> dict[str, dict[str, float | int]]:
    """Self weight, samples and % of all the weight per kind (the leaf's), every kind: the
    JSON report's ``kinds`` and the header's ``kinds (self)`` line."""
    total = profile.weight or 1
    out: dict[str, dict[str, float | int]] = {}
    for k, (w, s) in profile.kind_stats().items():
        out[k.value] = {"self": w, "self_samples": s, "self_pct": round(100.0 * w / total, 4)}
    return out
