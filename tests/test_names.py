"""names: parameter-list stripping, JSON-quoted names, runtime kinds, JIT dsos."""

from __future__ import annotations

import pytest

from jitprof.model import Kind
from jitprof.model.names import (
    KERNEL_MIN_ADDR,
    is_jit_dso,
    jit_map_pid,
    map_name,
    perf_name_kind,
    runtime_kind,
    strip_params,
    unquote,
)

# --- strip_params ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "want"),
    [
        # HHVM's huge-page overlay writes folly::demangle names (perf-formats.md 1.5, 1.7)
        ("HPHP::f_sort(HPHP::Variant&, long)", "HPHP::f_sort"),
        ("HPHP::c_DateTime_ni_format(HPHP::ObjectData*, HPHP::String const&)",
         "HPHP::c_DateTime_ni_format"),
        ("HPHP::c_Closure_ns_fromCallable(HPHP::Class const*, long)",
         "HPHP::c_Closure_ns_fromCallable"),
        ("HPHP::jit::tc::enterTC(...)", "HPHP::jit::tc::enterTC"),
        ("HPHP::f()", "HPHP::f"),
        # perf -v prints the full demangled name (perf-formats.md 4.6)
        ("HPHP::f_sort(std::vector<double, std::allocator<double> >&)", "HPHP::f_sort"),
        ("HPHP::tmpl_sum<double>(std::vector<double, std::allocator<double> > const&)",
         "HPHP::tmpl_sum<double>"),
    ],
)
def test_strip_params_cuts_the_parameter_list(name: str, want: str) -> None:
    assert strip_params(name) == want


@pytest.mark.parametrize(
    ("name", "want"),
    [
        ("HPHP::Foo::bar(int) const", "HPHP::Foo::bar"),
        ("HPHP::Foo::bar(int) volatile", "HPHP::Foo::bar"),
        ("HPHP::Foo::bar(int) const volatile", "HPHP::Foo::bar"),
        ("HPHP::Foo::bar(int) &", "HPHP::Foo::bar"),
        ("HPHP::Foo::bar(int) const &&", "HPHP::Foo::bar"),
        ("HPHP::Foo::bar(int) noexcept", "HPHP::Foo::bar"),
        ("HPHP::Foo::bar(int) const ", "HPHP::Foo::bar"),
    ],
)
def test_strip_params_drops_trailing_qualifiers(name: str, want: str) -> None:
    assert strip_params(name) == want


@pytest.mark.parametrize(
    ("name", "want"),
    [
        ("HPHP::(anonymous namespace)::anon_helper(long)",
         "HPHP::(anonymous namespace)::anon_helper"),
        ("foo<(E)0>::bar(int)", "foo<(E)0>::bar"),
        ("HPHP::f(void (*)(int), long)", "HPHP::f"),
        ("HPHP::Foo::operator()(int) const", "HPHP::Foo::operator()"),
        ("HPHP::f()::{lambda(int)#1}::operator()(int) const",
         "HPHP::f()::{lambda(int)#1}::operator()"),
        ("HPHP::f[abi:cxx11](int)", "HPHP::f[abi:cxx11]"),
    ],
)
def test_strip_params_with_nested_parentheses(name: str, want: str) -> None:
    assert strip_params(name) == want


@pytest.mark.parametrize(
    "name",
    [
        # names perf printed (perf script default strips parameters already)
        "HPHP::f_sort",
        "HPHP::(anonymous namespace)::anon_helper",
        "v8::internal::(anonymous namespace)::Invoke",
        "HPHP::tmpl_sum<double>",
        "std::vector<double, std::allocator<double> >::push_back",
        "foo<(E)0>",
        # a name that is only "(anonymous namespace)" at the end is not a parameter list
        "HPHP::(anonymous namespace)",
        # V8 / CPython / HHVM JIT names from perf maps
        "JS:*fib /tmp/rec/work.js:1:13",
        "JS:~ node:internal/main/run_main_module:1:1",
        "py::Sorter.sort_many.<locals>.<lambda>:/tmp/work.py",
        "PHP::Api_Router::__construct$prologue",
        # a group after a blank is not a parameter list
        "something (else)",
        # unbalanced or whole-name parentheses
        "f(int",
        "f)",
        "(int)",
        "",
        "HPHP::kConst const",
    ],
)
def test_strip_params_leaves_names_without_a_list(name: str) -> None:
    assert strip_params(name) == name


# --- unquote ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "want"),
    [
        # HHVM PCRE-JIT names are written with literal quotes, JSON-escaped (perf-formats 1.3)
        ('"HHVM::pcre_jit::/^([a-z]+)\\\\d+$/i"', "HHVM::pcre_jit::/^([a-z]+)\\d+$/i"),
        ('"HHVM::pcre_jit::/\\"q\\"/"', 'HHVM::pcre_jit::/"q"/'),
        ('"caf\\u00e9"', "café"),
        ('"a b"', "a b"),
    ],
)
def test_unquote_decodes_json_strings(name: str, want: str) -> None:
    assert unquote(name) == want


@pytest.mark.parametrize(
    "name",
    [
        "HHVM::pcre_jit::/x/",
        '"unterminated',
        'trailing"',
        '"a"b"',  # not one JSON string
        '"bad escape \\q"',
        '"',
        "it's \"quoted\" inside",
        "JS:*fib /tmp/rec/work.js:1:13",
    ],
)
def test_unquote_leaves_other_names(name: str) -> None:
    assert unquote(name) == name


# --- runtime_kind, map_name --------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "kind"),
    [
        ("HPHP::f_sort", Kind.HPHP),  # contains "PHP::" but is HHVM's C++
        ("HPHP::(anonymous namespace)::anon_helper", Kind.HPHP),
        ("PHP::/var/www/src/Api/Router.php::Api_Router::__construct", Kind.PHP),
        ("PHP::Api_Router::__construct$prologue", Kind.PHP),
        ("HHVM::enterTCHelper", Kind.HHVM),
        ("HHVM::pcre_jit::/x/", Kind.HHVM),
        ("JS:*fib /tmp/rec/work.js:1:13", None),
        ("std::PHP::x", None),
        ("php::lower", None),
        ("HPHP:f", None),
        ("", None),
    ],
)
def test_runtime_kind_by_prefix(name: str, kind: Kind | None) -> None:
    assert runtime_kind(name) is kind


@pytest.mark.parametrize(
    ("raw", "name", "kind"),
    [
        ("PHP::/srv/www/a b.php::Foo::bar(int, string) [weird]",
         "PHP::/srv/www/a b.php::Foo::bar(int, string) [weird]", Kind.PHP),
        ("PHP::Api_Router::route", "PHP::Api_Router::route", Kind.PHP),
        ("HPHP::f_sort(HPHP::Variant&, long)", "HPHP::f_sort", Kind.HPHP),
        ("HPHP::Foo::bar(int) const", "HPHP::Foo::bar", Kind.HPHP),
        # overlay names as perf shows ELF names: no return type, no clone suffix
        ("double HPHP::tmpl_sum<double>(std::vector<double, std::allocator<double> > const&)",
         "HPHP::tmpl_sum<double>", Kind.HPHP),
        ("HPHP::f_sort(HPHP::Variant&) [clone .cold]", "HPHP::f_sort", Kind.HPHP),
        ("HHVM::enterTCHelper", "HHVM::enterTCHelper", Kind.HHVM),
        ('"HHVM::pcre_jit::/^([a-z]+)\\\\d+$/i"', "HHVM::pcre_jit::/^([a-z]+)\\d+$/i",
         Kind.HHVM),
        ("JS:*fib /tmp/rec/work.js:1:13", "JS:*fib /tmp/rec/work.js:1:13", Kind.JIT),
        ("RegExp:([a-z]+)(\\d+)", "RegExp:([a-z]+)(\\d+)", Kind.JIT),
        ("long W.fib(int)", "W.fib", Kind.JAVA),  # HotSpot: the full form is kept apart
        ("py::f:/tmp/work.py", "py::f:/tmp/work.py", Kind.JIT),
    ],
)
def test_map_name_normalises_and_classifies(raw: str, name: str, kind: Kind) -> None:
    assert map_name(raw) == (name, kind)


# --- perf_name_kind ----------------------------------------------------------------------

USER = 0x5622227372C4


@pytest.mark.parametrize(
    ("sym", "dso", "addr", "kind"),
    [
        # frames as perf 6.1 printed them (perf script -i g.data, see tests/test_script.py)
        ("HPHP::f_sort", "/tmp/rec/prog", 0x12C4, Kind.HPHP),
        ("HPHP::(anonymous namespace)::anon_helper", "/tmp/rec/prog", 0x11F3, Kind.HPHP),
        ("worker", "/tmp/rec/prog", 0x135E, Kind.NATIVE),
        ("__libc_start_call_main", "/usr/lib/x86_64-linux-gnu/libc.so.6", 0x2724A,
         Kind.NATIVE),
        ("kmem_cache_alloc_noprof", "[kernel.kallsyms]", 0xFFFFFFFF81650990, Kind.KERNEL),
        ("elf_load", "[kernel.kallsyms]", 0xFFFFFFFF81775B9A, Kind.KERNEL),
        ("x", "[guest.kernel.kallsyms]", 0xFFFFFFFF81000000, Kind.KERNEL),
        # kernel modules: perf prints the module name in brackets ("... ([kvm])")
        ("kvm_is_in_guest", "[kvm]", 0xFFFFFFFFC0A1B2C3, Kind.KERNEL),
        ("nft_do_chain", "[nf_tables]", 0xFFFFFFFFC0F00010, Kind.KERNEL),
        ("[unknown]", "[nf_tables]", 0xFFFFFFFFC0F00010, Kind.KERNEL),
        ("[unknown]", "[unknown]", 0xFFFFFFFF81000000, Kind.KERNEL),
        ("[unknown]", "", 0xFFFFFFFF81000000, Kind.KERNEL),
        ("", "[unknown]", KERNEL_MIN_ADDR, Kind.KERNEL),
        ("[unknown]", "[unknown]", KERNEL_MIN_ADDR - 1, Kind.UNKNOWN),
        ("[unknown]", "[unknown]", 0x7F95E687A758, Kind.UNKNOWN),
        ("[unknown]", "/tmp/rec/prog_del (deleted)", 0x12C8, Kind.UNKNOWN),
        ("", "/tmp/rec/prog", 0x12C8, Kind.UNKNOWN),
        ("[unknown]", "/tmp/perf-12693.map", 0x7FC0BF7C6188, Kind.UNKNOWN),
        ("PHP::Api_Router::route", "/tmp/perf-1.map", USER, Kind.PHP),
        ("HHVM::enterTCHelper", "//anon", USER, Kind.HHVM),
        ("pthread_mutex_lock@@GLIBC_2.2.5", "/usr/lib/x86_64-linux-gnu/libc.so.6", 0x8C373,
         Kind.NATIVE),
        ("__vdso_clock_gettime", "[vdso]", USER, Kind.NATIVE),
        # a named user frame at a kernel-half address stays what its dso says
        ("f", "/tmp/x", 0xFFFFFFFF81000000, Kind.NATIVE),
    ],
)
def test_perf_name_kind(sym: str, dso: str, addr: int, kind: Kind) -> None:
    assert perf_name_kind(sym, dso, addr) is kind


# --- is_jit_dso, jit_map_pid -------------------------------------------------------------


@pytest.mark.parametrize(
    "dso",
    [
        "//anon",
        "[unknown]",
        "",
        "[heap]",
        "/anon_hugepage (deleted)",
        "/anon_hugepage",
        "[anon:v8 code]",
        "/dev/zero (deleted)",
        "[stack]",
        "[stack:1234]",
        "/SYSV00000000 (deleted)",
        "/tmp/perf-12693.map",
        "perf-1.map",
    ],
)
def test_is_jit_dso_true(dso: str) -> None:
    assert is_jit_dso(dso)


@pytest.mark.parametrize(
    "dso",
    [
        "/usr/bin/node",
        "/usr/lib/x86_64-linux-gnu/libc.so.6",
        "[kernel.kallsyms]",
        "[vdso]",
        "/memfd:doublemapper (deleted)",
        "/tmp/rec/prog_del (deleted)",
        "/tmp/demo/node/jd/jitted-10888-681.so",
        "/tmp/perf-12693.map.old",
        "/tmp/xperf-1.map",
        "/tmp/perf-abc.map",
    ],
)
def test_is_jit_dso_false(dso: str) -> None:
    assert not is_jit_dso(dso)


@pytest.mark.parametrize(
    ("dso", "pid"),
    [
        ("/tmp/perf-12693.map", 12693),
        ("perf-7.map", 7),
        ("/var/tmp/perf-8598.map", 8598),
        ("/tmp/perf-12693.map.old", None),
        ("/tmp/xperf-1.map", None),
        ("/tmp/perf-.map", None),
        ("//anon", None),
        ("[unknown]", None),
    ],
)
def test_jit_map_pid(dso: str, pid: int | None) -> None:
    assert jit_map_pid(dso) == pid
