"""demangle: names shortened as perf shows them, checked against binutils' ``c++filt -p``
(libiberty without parameters, the demangler perf 6.1 uses) on every C++ function
symbol of node."""

from __future__ import annotations

import os
import shutil
import subprocess

import pytest

from jitprof.symbols.demangle import demangle, perf_name, short_name
from jitprof.symbols.elfsym import SymbolCache, read_symbols
from tests.conftest import require_tools

CASES = {
    "_ZN4HPHP6f_sortERSt6vectorIdSaIdEE": "HPHP::f_sort",
    "_ZN4HPHP8tmpl_sumIdEET_RKSt6vectorIS1_SaIS1_EE": "HPHP::tmpl_sum<double>",
    "_ZZ4mainENKUliE_clEi": "main::{lambda(int)#1}::operator()",
    "_ZN1A1fEv.cold": "A::f",
    "_ZNK1A1gEi.constprop.0": "A::g",
    "_ZN4HPHP12_GLOBAL__N_11xEv": "HPHP::(anonymous namespace)::x",
    "_ZNSt6vectorIiSaIiEEixEm": "std::vector<int, std::allocator<int> >::operator[]",
    "_ZlsRSoRK1A": "operator<<",
    "_ZN1AltERKS_": "A::operator<",
    "_ZThn16_N1B1fEv": "non-virtual thunk to B::f()",
    "main": "main",
    "_ZN4HPHP3lib8hot_loopEl@plt": "HPHP::lib::hot_loop@plt",  # perf's PLT symbols
    "printf@plt": "printf@plt",
    "_Znot_mangled": "_Znot_mangled",
}


@pytest.mark.parametrize("mangled,want", sorted(CASES.items()))
def test_perf_form(mangled: str, want: str) -> None:
    assert perf_name(mangled)[0] == want


def test_full_form_is_kept() -> None:
    short, full = perf_name("_ZN4HPHP6f_sortERSt6vectorIdSaIdEE")
    assert short == "HPHP::f_sort"
    assert full == "HPHP::f_sort(std::vector<double, std::allocator<double> >&)"
    assert demangle("plain_c") == "plain_c"
    assert short_name("HPHP::f_sort(HPHP::Variant&, long) const") == "HPHP::f_sort"


# libiberty prints std abbreviations in full with DMGL_VERBOSE (c++filt's default); perf
# and __cxa_demangle do not
_VERBOSE = [
    ("std::basic_ostream<char, std::char_traits<char> >", "std::ostream"),
    ("std::basic_istream<char, std::char_traits<char> >", "std::istream"),
    ("std::basic_iostream<char, std::char_traits<char> >", "std::iostream"),
    ("std::basic_string<char, std::char_traits<char>, std::allocator<char> >", "std::string"),
]


def test_every_node_cxx_symbol_matches_cxxfilt_p() -> None:
    require_tools("c++filt", "node")
    node = os.path.realpath(shutil.which("node") or "")
    table = read_symbols(node, cache=SymbolCache(None))
    names = sorted({s.name for s in table if s.name.startswith("_Z")
                    and not s.name.endswith("@plt")})  # (PLT entries: names derived)
    assert len(names) > 10000
    out = subprocess.run(["c++filt", "-p"], input="\n".join(names) + "\n", capture_output=True,
                         text=True, check=True, timeout=120).stdout.splitlines()
    assert len(out) == len(names)
    bad = []
    for mangled, want in zip(names, out, strict=True):
        for verbose, short in _VERBOSE:
            want = want.replace(verbose, short)
        got = perf_name(mangled)[0]
        if got != want:
            bad.append((mangled, got, want))
    # __cxa_demangle rejects a few names libiberty accepts: they stay mangled
    assert all(m == g for m, g, _w in bad), bad[:5]
    assert len(bad) <= len(names) // 10000, bad[:5]
