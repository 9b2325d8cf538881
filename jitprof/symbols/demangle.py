"""C++ names: demangled by libstdc++'s ``__cxa_demangle`` (the ``cxxfilt`` package), and
shortened the way perf shows them.

perf (6.1, libiberty without DMGL_PARAMS, like ``c++filt -p``) shows a function without
its parameter list, its return type, its cv/ref qualifiers and its ``[clone .cold]``
suffixes, keeping template arguments: ``double HPHP::tmpl_sum<double>(std::vector<double,
std::allocator<double> > const&) [clone .constprop.0]`` -> ``HPHP::tmpl_sum<double>``.
``short_name`` derives that form from the full one, so both are available; the rule is
checked against ``c++filt -p`` on every C++ symbol of /usr/bin/node (tests/test_demangle.py).
"""

from __future__ import annotations

import re
from functools import lru_cache

import cxxfilt

from jitprof.model.names import short_name


@lru_cache(maxsize=65536)
def demangle(name: str) -> str:
    """The full demangled form of an Itanium C++ name; other names as they are."""
    if not name.startswith("_Z"):
        return name
    try:
        out = cxxfilt.demangle(name)
    except (cxxfilt.InvalidName, UnicodeError, ValueError):
        return _name_only(name)
    return out or name


_SUFFIX_RX = re.compile(r"(?:\.[A-Za-z_][A-Za-z0-9_]*(?:\.\d+)*)+$")


def _name_only(name: str) -> str:
    """A nested name whose parameter types the demangler cannot read (perf demangles
    without parameters, DMGL_NO_OPTS, so it names these): the longest prefix that is a
    whole ``_ZN...E`` name, demangled; ``name`` itself when there is none."""
    base = _SUFFIX_RX.sub("", name)
    if not base.startswith("_ZN"):
        return name
    ends = [i for i, c in enumerate(base) if c == "E"][-64:]
    for i in reversed(ends):
        try:
            out = cxxfilt.demangle(base[: i + 1])
        except (cxxfilt.InvalidName, UnicodeError, ValueError):
            continue
        if out:
            return out
    return name


def perf_name(mangled: str) -> tuple[str, str]:
    """(the name perf shows, the full demangled name) of an ELF symbol name (a PLT
    entry's ``@plt`` suffix is kept after the demangled name, as perf shows it)."""
    if mangled.endswith("@plt") and mangled.startswith("_Z"):
        short, full = perf_name(mangled[:-4])
        return short + "@plt", full + "@plt"
    full = demangle(mangled)
    if full is mangled or full == mangled:
        return mangled, mangled
    return short_name(full), full
