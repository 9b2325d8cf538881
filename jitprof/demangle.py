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

_CLONE_RX = re.compile(r"(?: \[clone [^\]]*\])+$")
_QUALIFIERS = (" const", " volatile", " &&", " &", " noexcept", " transaction_safe")
# an operator name that ends at the scan position: its <, >, (, ) are not brackets
_OPERATOR_END_RX = re.compile(
    r"operator(?:<<=|>>=|<=>|->\*|<<|>>|<=|>=|->|\(\)|\[\]|<|>)$"
)
_SPECIAL_RX = re.compile(
    r"(?:non-virtual thunk|virtual thunk|covariant return thunk) to |"
    r"(?:construction vtable|vtable|VTT|typeinfo name|typeinfo|guard variable|"
    r"TLS init function|TLS wrapper function|reference temporary #\d+|"
    r"transaction clone|non-transaction clone) for "
)
_OPEN = {">": "<", ")": "(", "]": "[", "}": "{"}


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


def _name_start(s: str) -> int:
    """Where the function name starts in ``s`` (a demangled name without its parameter
    list): after a return type, which is separated by a space outside any brackets."""
    depth = 0
    i = len(s) - 1
    while i >= 0:
        c = s[i]
        if c in "<>()[]":
            m = _OPERATOR_END_RX.search(s, 0, i + 1)
            if m is not None:  # operator<, operator() ...: part of the name
                i = m.start() - 1
                continue
        if c in _OPEN:
            depth += 1
        elif c in "<([{":
            depth -= 1
        elif c == " " and depth == 0:
            before = s[:i]
            m = _OPERATOR_END_RX.search(before)
            if m is not None:  # "operator<< <char>"
                i = m.start() - 1
                continue
            if before.endswith(("operator", "thunk to", "for")):
                i -= 1  # "operator new", "non-virtual thunk to", "guard variable for"
                continue
            return i + 1
        i -= 1
    return 0


def last_group_start(text: str) -> int:
    """Index of the "(" that opens the balanced group ending ``text``; -1 if ``text``
    does not end with ")" or the parentheses do not balance."""
    if not text.endswith(")"):
        return -1
    depth = 0
    for i in range(len(text) - 1, -1, -1):
        c = text[i]
        if c == ")":
            depth += 1
        elif c == "(":
            depth -= 1
            if depth == 0:
                return i
    return -1


def strip_qualifiers(s: str) -> str:
    """``s`` without trailing member-function qualifiers (`` const``, `` &&``, ...)."""
    t = s.rstrip()
    changed = True
    while changed:
        changed = False
        for q in _QUALIFIERS:
            if t.endswith(q):
                t = t[: -len(q)].rstrip()
                changed = True
    return t


def _cut_params(s: str) -> str:
    t = strip_qualifiers(s)
    if not t.endswith(")"):
        return s
    i = last_group_start(t)
    if i <= 0 or t[i + 1: -1] == "anonymous namespace":
        return s
    return t[:i]


@lru_cache(maxsize=65536)
def short_name(full: str) -> str:
    """perf's form of a demangled name: no parameters, return type, qualifiers or
    clone suffixes (names that are not C++ functions come back unchanged)."""
    s = _CLONE_RX.sub("", full)
    if _SPECIAL_RX.match(s):
        return s  # libiberty prints special names with their target's parameters
    if not s.endswith(")") and not any(s.endswith(q) for q in _QUALIFIERS):
        return s if s != full else full
    cut = _cut_params(s)
    if cut == s:
        return s
    if cut.endswith(">"):  # a template instance: the full form has a return type
        cut = cut[_name_start(cut):]
    return cut


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
