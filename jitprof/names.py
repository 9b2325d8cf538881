"""Function names: normalisation (HHVM overlay parameter lists, JSON-quoted names) and kinds."""

from __future__ import annotations

import json
import re

from jitprof.demangle import last_group_start, short_name, strip_qualifiers
from jitprof.model import Kind

KERNEL_MIN_ADDR = 0xFFFF800000000000  # x86-64 canonical kernel half
_PERF_MAP_DSO_RX = re.compile(r"(?:^|/)perf-(\d+)\.map$")


def jit_map_pid(dso: str) -> int | None:
    """The pid of a perf-map dso name (``/tmp/perf-123.map`` -> 123)."""
    m = _PERF_MAP_DSO_RX.search(dso)
    return int(m.group(1)) if m else None


def is_jit_dso(dso: str) -> bool:
    """Memory perf could not tie to a file, where a JIT's perf map may name the code."""
    return (
        dso in ("//anon", "[unknown]", "", "[heap]")
        or dso.startswith(("/anon_hugepage", "[anon:", "/dev/zero", "[stack", "/SYSV"))
        or _PERF_MAP_DSO_RX.search(dso) is not None
    )


def strip_params(name: str) -> str:
    """Cut a trailing C++ parameter list: ``HPHP::f_sort(HPHP::Variant&, long)`` ->
    ``HPHP::f_sort``; keeps ``(anonymous namespace)`` and names without a list."""
    s = strip_qualifiers(name)
    i = last_group_start(s)
    if i <= 0 or s[i + 1 : -1] == "anonymous namespace" or s[i - 1] == " ":
        return name
    return s[:i]


def unquote(name: str) -> str:
    """HHVM writes PCRE-JIT names JSON-quoted (``"HHVM::pcre_jit::/a\\\\d/"``): decode."""
    if len(name) >= 2 and name[0] == '"' and name[-1] == '"':
        try:
            v = json.loads(name)
        except ValueError:
            return name
        if isinstance(v, str):
            return v
    return name


def runtime_kind(name: str) -> Kind | None:
    """PHP/HPHP/HHVM by prefix (``HPHP::f_sort`` contains ``PHP::`` but is HPHP)."""
    if name.startswith("HPHP::"):
        return Kind.HPHP
    if name.startswith("PHP::"):
        return Kind.PHP
    if name.startswith("HHVM::"):
        return Kind.HHVM
    return None


def map_name(raw: str) -> tuple[str, Kind]:
    """Normalise a perf-map name and classify it (runtime kind, else JIT)."""
    name = unquote(raw)
    kind = runtime_kind(name)
    if kind is Kind.HPHP:
        # HHVM's C++ overlay carries parameter lists (and clone suffixes): perf's form
        name = short_name(name)
    elif kind is None and "HPHP::" in name and name.endswith(")"):
        short = short_name(name)  # a template instance's return type comes first
        if runtime_kind(short) is Kind.HPHP:
            name, kind = short, Kind.HPHP
    return name, kind or Kind.JIT


def perf_name_kind(sym: str, dso: str, addr: int) -> Kind:
    """Kind of a frame named by perf (from an ELF file, kallsyms, ...)."""
    kind = runtime_kind(sym)
    if kind is not None:
        return kind
    if dso.startswith("[kernel") or dso.startswith("[guest.kernel") or (
        # kernel modules print as "[kvm]", "[nf_tables]"
        addr >= KERNEL_MIN_ADDR and (dso == "" or dso.startswith("["))
    ):
        return Kind.KERNEL
    if not sym or sym == "[unknown]":
        return Kind.UNKNOWN
    return Kind.NATIVE
