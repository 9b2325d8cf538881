"""Stage 4, model: the profile every later stage reads (``types``: the vocabulary;
``profile``: the columnar Profile and its builders). Imports nothing of the other stages."""

from jitprof.model.profile import (
    Profile,
    ProfileBuilder,
    StackTreeBuilder,
    distinct_ints,
    group_sums,
    sum_by,
    unique_inverse,
)
from jitprof.model.types import (
    CPU_TIME_EVENTS,
    KIND_ORDER,
    OFF_CPU,
    SYNTHETIC_EVENTS,
    TIMELINE_BIN,
    WALL,
    Diagnostic,
    ElfFileHealth,
    Frame,
    FunctionStats,
    Kind,
    MapHealth,
    ProfileDiagnostics,
)

__all__ = [
    "CPU_TIME_EVENTS",
    "KIND_ORDER",
    "OFF_CPU",
    "SYNTHETIC_EVENTS",
    "TIMELINE_BIN",
    "WALL",
    "Diagnostic",
    "ElfFileHealth",
    "Frame",
    "FunctionStats",
    "Kind",
    "MapHealth",
    "Profile",
    "ProfileBuilder",
    "ProfileDiagnostics",
    "StackTreeBuilder",
    "distinct_ints",
    "group_sums",
    "sum_by",
    "unique_inverse",
]
