"""Function names: normalisation (HHVM overlay parameter lists, JSON-quoted names) and kinds."""

from __future__ import annotations

import json
import re
from functools import lru_cache

from jitprof.model import Kind

# C++ name shapes (pure text; the demangler itself is jitprof.symbols.demangle)
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


KERNEL_MIN_ADDR = 0xFFFF800000000000  # x86-64 canonical kernel half
# No code lives below mmap_min_addr (64 KiB), and none above the canonical user half
# (47 bits on x86-64 with 4-level paging): "addresses" outside are the garbage an FP
# unwinder read past the last real frame (often ASCII: 0x6d2f70756f726763), not JIT code.
USER_MIN_ADDR = 0x10000
PERF_CONTEXT_MIN = 0xFFFFFFFFFFFFF001  # PERF_CONTEXT_MAX (-4095) and up: markers
USER_MAX_ADDR = 0x0000800000000000
_PERF_MAP_DSO_RX = re.compile(r"(?:^|/)perf-(\d+)\.map$")
# perf inject --jit writes one ELF per jitdump code load: <dir>/jitted-<pid>-<index>.so
_JITTED_DSO_RX = re.compile(r"(?:^|/)jitted-\d+-\d+\.so$")
# a kernel image perf read symbols from: .../vmlinux, vmlinux-6.1.0-18-amd64, vmlinux.debug
_VMLINUX_RX = re.compile(r"(?:^|/)vmlinux(?:[-.][^/]*)?$")


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


def is_jitted_dso(dso: str) -> bool:
    """A ``perf inject --jit`` code file (``/tmp/jitted-31714-1.so``): JIT code."""
    return _JITTED_DSO_RX.search(dso) is not None


def is_kernel_dso(dso: str) -> bool:
    """``[kernel.kallsyms]``, a guest kernel, or a vmlinux file perf read symbols from
    (``/lib/modules/4.3.0-rc1-virtual/build/vmlinux``)."""
    return dso.startswith(("[kernel", "[guest.kernel")) or _VMLINUX_RX.search(dso) is not None


def is_user_addr(addr: int) -> bool:
    """A canonical user-space address where code can live (see ``USER_MIN_ADDR``)."""
    return USER_MIN_ADDR <= addr < USER_MAX_ADDR


def is_jit_memory(dso: str, addr: int) -> bool:
    """A frame a perf map may name: JIT memory (``is_jit_dso``) at a user address."""
    return USER_MIN_ADDR <= addr < USER_MAX_ADDR and is_jit_dso(dso)


def is_surely_jit_dso(dso: str) -> bool:
    """Memory perf saw mapped anonymous and executable (or named by a perf map): surely
    JIT code. A lone ``[unknown] ([unknown])`` frame is as often unwinder garbage."""
    return dso not in ("[unknown]", "") and is_jit_dso(dso)


# -- Java (HotSpot's own perf map: -XX:+DumpPerfMapAtExit, jcmd PID Compiler.perfmap) ------
# "<return type> <class>.<method>(<argument types>)", e.g. "long Hot.fib(int)",
# "java.lang.Object jdk.internal.misc.Unsafe.getReferenceVolatile(java.lang.Object, long)",
# "void Hot$$Lambda$14/0x0000000800c01234.run()"; maybe a trailing " [tier]" note
_JAVA_RX = re.compile(
    r"^(?P<ret>[\w$.]+(?:\[\])*) (?P<cls>[\w$.]*[\w$](?:/0x[0-9a-fA-F]+)?)\."
    r"(?P<meth>[\w$]+|<init>|<clinit>)\((?P<args>[^()]*)\)(?: \[[^\]]*\])?$")
# perf-map-agent: "Lcom/foo/Bar;::baz" (or "com.foo.Bar::baz" with dottedclass)
_JAVA_AGENT_RX = re.compile(r"^L(?P<cls>[\w$/]+);::?(?P<meth>[\w$<>]+)")
# HotSpot runtime code in its perf map (no ':' in any of them): the interpreter, stub
# routines, adapters, runtime stubs and blobs
_JVM_NAMES = frozenset((
    "Interpreter", "adapters", "I2C/C2I adapters", "MethodHandles adapters",
    "native signature handlers", "InlineCacheBuffer", "C1 temporary CodeBuffer",
    "Signature Handler Temp Buffer", "vtable chunks", "BufferBlob", "nmethod",
))
_JVM_RX = re.compile(
    r"^(?:StubRoutines \(\d+\)|\S*Blob|.+ Runtime1 stub|.*[ _]stub|resolve_\w+_call"
    r"|_\w+_Java|jni_fast_\w+|.+ throw_exception|\w+_barrier_slow|[vi]table stub.*)$")


# how a HotSpot JVM writes a perf map (it never appends to it: a snapshot when asked)
JAVA_MAP_HINT = ("java -XX:+UnlockDiagnosticVMOptions -XX:+DumpPerfMapAtExit (with "
                 "-XX:+PreserveFramePointer for whole Java stacks), or "
                 "jcmd PID Compiler.perfmap while it runs")


def is_jvm_dso(dso: str) -> bool:
    """HotSpot's own library: a process with frames in it is a JVM."""
    return dso.endswith("/libjvm.so")


def java_method(name: str) -> tuple[str, str] | None:
    """A Java method's display name and full name: ``long Hot.fib(int)`` ->
    (``Hot.fib``, ``long Hot.fib(int)``); a lambda's hidden-class address is dropped
    (``Hot$$Lambda$14/0x...800c01234.run`` -> ``Hot$$Lambda$14.run``). None if not Java."""
    m = _JAVA_RX.match(name)
    if m is not None:
        cls = m.group("cls")
        i = cls.find("/0x")
        if i >= 0:
            cls = cls[:i]
        return f"{cls}.{m.group('meth')}", name
    m = _JAVA_AGENT_RX.match(name)
    if m is not None:
        return f"{m.group('cls').replace('/', '.')}.{m.group('meth')}", name
    return None


def java_class(name: str) -> str | None:
    """The class of a Java display name (``java.util.Arrays.sort`` -> ``java.util.Arrays``)."""
    i = name.rfind(".")
    return name[:i] if i > 0 else None


def is_jvm_blob(name: str) -> bool:
    """HotSpot runtime code named in its perf map (``Interpreter``, ``StubRoutines (1)``,
    ``I2C/C2I adapters``, ``new_instance Runtime1 stub``, ``SafepointBlob``...)."""
    return ":" not in name and (name in _JVM_NAMES or _JVM_RX.match(name) is not None)


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
    """Normalise a perf-map name and classify it (runtime kind, Java/JVM, else JIT)."""
    name, kind, _full = map_name_full(raw)
    return name, kind


def map_name_full(raw: str) -> tuple[str, Kind, str | None]:
    """``map_name`` and the full form where the display name shortens it (a Java method's
    return and argument types: ``long Hot.fib(int)`` is shown as ``Hot.fib``)."""
    name = unquote(raw)
    kind = runtime_kind(name)
    if kind is None:
        java = java_method(name)
        if java is not None:
            return java[0], Kind.JAVA, java[1]
        if is_jvm_blob(name):
            return name, Kind.JVM, None
    if kind is Kind.HPHP:
        # HHVM's C++ overlay carries parameter lists (and clone suffixes): perf's form
        name = short_name(name)
    elif kind is None and "HPHP::" in name and name.endswith(")"):
        short = short_name(name)  # a template instance's return type comes first
        if runtime_kind(short) is Kind.HPHP:
            name, kind = short, Kind.HPHP
    return name, kind or Kind.JIT, None


def perf_name_kind(sym: str, dso: str, addr: int) -> Kind:
    """Kind of a frame named by perf (from an ELF file, kallsyms, ...)."""
    kind = runtime_kind(sym)
    if kind is not None:
        return kind
    if addr >= PERF_CONTEXT_MIN and not is_kernel_dso(dso):
        return Kind.UNKNOWN  # perf's callchain context markers (-1 ...), not an address
    if is_kernel_dso(dso) or (
        # kernel modules print as "[kvm]", "[nf_tables]"
        addr >= KERNEL_MIN_ADDR and (dso == "" or dso.startswith("["))
    ):
        return Kind.KERNEL
    if not sym or sym == "[unknown]":
        return Kind.UNKNOWN
    if is_jitted_dso(dso):  # perf inject --jit: the JIT's own names
        return map_name(sym)[1]
    return Kind.NATIVE
