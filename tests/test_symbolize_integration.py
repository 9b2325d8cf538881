"""ELF symbolization on real recordings made in the test run: jitprof on symbol-less
``perf script`` text (plus mmap events) must reproduce ``perf report --no-children --sort
sym`` on the same perf.data, with the same names, for every function above 0.5%.

Programs (compiled here, each recorded with ``perf record -N -F 999 -g -e cpu-clock`` for
~0.5 s; -N keeps them out of perf's build-id cache, so perf report finds them only where
jitprof does): non-PIE, PIE, PIE linked by lld, PIE calling into a shared library of its
own, stripped with its debug file found by build-id (under --symfs), stripped with its
debug file found by .gnu_debuglink. Each again with the files moved under a --symfs
directory (perf report gets the same --symfs). And node's own binary (non-PIE, PT_LOAD
offset != vaddr, 78k function symbols) from a ``node --perf-basic-prof`` recording.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from jitprof.commands import main
from tests.conftest import require_tools, tool_failed
from tests.nativecheck import assert_native_equals_script
from tests.perfreport import (
    UNNAMED,
    check_shares,
    map_lines,
    overlapping_names,
    perf_self,
    perf_unnamed_self,
)

TOLERANCE = 0.1  # percentage points
THRESHOLD = 0.5  # every function above this share is compared
FIELDS = "comm,pid,tid,time,period,event,ip,dso"  # no sym: jitprof names every frame

PROGRAM = r"""
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <vector>
#ifdef WITH_LIB
namespace HPHP { namespace lib { long hot_loop(long n); } }
extern "C" long tiny(long n);  // called often: samples land in its PLT entry
#endif
namespace TAG {
static __attribute__((noinline)) double local_helper(long n) {
  double s = 0; for (long i = 0; i < n; i++) s += (double)(i & 15) * 0.5; return s;
}
__attribute__((noinline)) double spin_a(long n) {
  double s = 0; for (long i = 0; i < n; i++) s += (double)i / (double)(i + 1); return s;
}
__attribute__((noinline)) double spin_b(long n) {
  double s = 0; for (long i = 0; i < n; i++) s += (double)(i ^ 3) / (double)(i + 2); return s;
}
template <class T> __attribute__((noinline)) T tsum(const std::vector<T>& v) {
  T s = 0; for (auto x : v) s += x * x; return s;
}
}
int main(int argc, char** argv) {
  double secs = argc > 1 ? atof(argv[1]) : 0.7;
  auto end = std::chrono::steady_clock::now() + std::chrono::duration<double>(secs);
  std::vector<double> v(40000, 1.5);
  double t = 0;
  while (std::chrono::steady_clock::now() < end) {
    t += TAG::spin_a(300000);
    t += TAG::spin_b(150000);
    t += TAG::tsum(v);
    t += TAG::local_helper(60000);
#ifdef WITH_LIB
    t += (double)HPHP::lib::hot_loop(200000);
    for (long j = 0; j < 100000; j++) t += (double)tiny(j);
#endif
  }
  std::printf("%f\n", t);
}
"""

LIBRARY = r"""
extern "C" long tiny(long n) { return n & 3; }
namespace HPHP { namespace lib {
__attribute__((noinline)) long hot_loop(long n) {
  long s = 0; for (long i = 0; i < n; i++) s += (i * i) % 7; return s;
}
}}
"""

CXXFLAGS = ["-O1", "-g", "-fno-omit-frame-pointer"]
SECONDS = "0.5"


def _run(argv: list[str], cwd: Path | None = None) -> None:
    r = subprocess.run(argv, capture_output=True, text=True, timeout=180, cwd=cwd)
    if r.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)}: {r.stderr[-800:]}")


def _lld_available() -> bool:
    return shutil.which("ld.lld") is not None


def _build(root: Path) -> dict[str, dict]:
    """Compile the program three ways (PIE, non-PIE, PIE calling the library) and link
    the PIE object four ways; returns name -> {binary, extra files}. Each link gets its
    own build-id."""
    d = root / "bin"
    d.mkdir()
    (d / "prog.cpp").write_text(PROGRAM)
    (d / "hot.cpp").write_text(LIBRARY)
    src = str(d / "prog.cpp")
    out: dict[str, dict] = {}

    def obj(name: str, *flags: str) -> str:
        o = root / f"{name}.o"
        _run(["g++", *CXXFLAGS, "-DTAG=work", *flags, "-c", "-o", str(o), src])
        return str(o)

    def link(name: str, o: str, *flags: str) -> Path:
        exe = d / name
        bid = hashlib.sha1(name.encode()).hexdigest()
        _run(["g++", "-o", str(exe), o, f"-Wl,--build-id=0x{bid}", *flags])
        return exe

    pie_o = obj("pie", "-fPIE")
    out["nopie"] = {"binary": link("nopie", obj("nopie", "-fno-pie"), "-no-pie")}
    out["pie"] = {"binary": link("pie", pie_o, "-pie")}
    if _lld_available():
        out["lld"] = {"binary": link("lld", pie_o, "-pie", "-fuse-ld=lld")}
    lib = d / "libhot.so"
    _run(["g++", *CXXFLAGS, "-fPIC", "-shared", "-o", str(lib), str(d / "hot.cpp")])
    out["withlib"] = {"binary": link("withlib", obj("withlib", "-fPIE", "-DWITH_LIB"), "-pie",
                                     str(lib), f"-Wl,-rpath,{d}")}
    # stripped, the debug file found by build-id (under <symfs>/usr/lib/debug/.build-id)
    exe = link("stripbid", pie_o, "-pie")
    dbg = d / "stripbid.debug"
    _run(["objcopy", "--only-keep-debug", str(exe), str(dbg)])
    _run(["strip", "--strip-all", str(exe)])
    out["stripbid"] = {"binary": exe, "bid_debug": dbg}
    # stripped, the debug file found by .gnu_debuglink in .debug/ beside the binary
    exe = link("striplink", pie_o, "-pie")
    dbg = d / "striplink.debug"
    _run(["objcopy", "--only-keep-debug", str(exe), str(dbg)])
    _run(["strip", "--strip-all", str(exe)])
    _run(["objcopy", f"--add-gnu-debuglink={dbg.name}", str(exe)], cwd=d)
    (d / ".debug").mkdir()
    dbg.rename(d / ".debug" / dbg.name)
    out["striplink"] = {"binary": exe}
    return out


def _build_id(path: Path) -> str:
    from jitprof.symbols.elfsym import read_elf_info

    bid = read_elf_info(str(path)).build_id
    assert bid
    return bid


def _record(binary: Path, data: Path, callchains: bool = True) -> None:
    g = ["-g"] if callchains else []
    r = subprocess.run(["perf", "record", "-N", "-F", "999", *g, "-e", "cpu-clock", "-o",
                        str(data), "--", str(binary), SECONDS],
                       capture_output=True, text=True, timeout=180)
    if r.returncode != 0:
        tool_failed(f"perf record {binary}", RuntimeError(r.stderr[-500:]))


def _script(data: Path, out: Path, *extra: str) -> Path:
    with open(out, "w") as f:
        subprocess.run(["perf", "script", "-i", str(data), "-F", FIELDS, "--show-mmap-events",
                        *extra], stdout=f, stderr=subprocess.DEVNULL, check=True, timeout=300)
    return out


@pytest.fixture(scope="module")
def recordings(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict]:
    require_tools("perf", "g++", "objcopy", "strip")
    root = tmp_path_factory.mktemp("symbolize")
    try:
        progs = _build(root)
    except RuntimeError as e:
        tool_failed("compiling the test programs", e)
        raise
    symfs_bid = root / "symfs-bid"  # the build-id debug root for "stripbid"
    bid = _build_id(progs["stripbid"]["binary"])
    target = symfs_bid / "usr/lib/debug/.build-id" / bid[:2] / (bid[2:] + ".debug")
    target.parent.mkdir(parents=True)
    shutil.move(str(progs["stripbid"].pop("bid_debug")), target)
    # the PIE again without callchains: the sample ips are raw runtime addresses
    progs["nog"] = {"binary": progs["pie"]["binary"]}
    for name, p in progs.items():
        data = root / f"{name}.data"
        _record(p["binary"], data, callchains=name != "nog")
        p["data"] = data
        p["script"] = _script(data, root / f"{name}.script")
    yield {"root": root, "progs": progs, "symfs_bid": symfs_bid}


def _jitprof(script: Path, *extra: str) -> dict:
    res = CliRunner().invoke(main, ["report", str(script), "--no-tmp", "--top", "0",
                                    "--format", "json", *extra])
    assert res.exit_code == 0, res.output
    return json.loads(res.output)


def compare(doc: dict, theirs: dict[str, float], skip: set[str] = frozenset(),  # type: ignore[assignment]
            perf_unnamed: float = 0.0) -> float:
    """Assert every function above THRESHOLD matches; return the largest deviation.
    Kernel functions jitprof named from kallsyms where perf printed a bare address may
    add up to perf's unnamed share (``perf_unnamed``)."""
    ours = {f["name"]: f["self_pct"] for f in doc["functions"]}
    kinds = {f["name"]: f["kind"] for f in doc["functions"]}
    table = sorted(((v, n) for n, v in ours.items() if v > THRESHOLD), reverse=True)
    worst = 0.0
    compared = 0
    for name, pct in theirs.items():
        # the vdso's functions: jitprof has no image to name them from (check_all_rows
        # compares the [vdso] as one row; one sample of a short run can be 0.8%)
        if pct <= THRESHOLD or name in skip or name.startswith("__vdso_"):
            continue
        assert name in ours, f"{name} ({pct}%) missing from jitprof: {table}"
        dev = abs(ours[name] - pct)
        assert dev <= TOLERANCE, (name, ours[name], pct, table)
        worst = max(worst, dev)
        compared += 1
    extra_kernel = 0.0
    for name, pct in ours.items():
        if pct > THRESHOLD and name not in skip and not name.startswith("[") and (
                name not in theirs):
            assert kinds[name] == "kernel", (
                f"jitprof has {name} ({pct}%) that perf report lacks: {theirs}")
            extra_kernel += pct
    assert extra_kernel <= perf_unnamed + TOLERANCE, (extra_kernel, perf_unnamed, theirs)
    assert compared >= 3
    return worst


def check_all_rows(doc: dict, data: Path, skip: set[str] = frozenset(),  # type: ignore[assignment]
                   extra: tuple[str, ...] = ()) -> None:
    """The long tail too: exact weights by name and by DSO, the sum of |jitprof - perf|
    over every row bounded (``check_shares``). Kernel functions jitprof named where perf
    printed a bare address are excused row by row, as in ``compare``, but count in the sum.
    The [vdso]'s functions are one row: jitprof has no copy of the vdso image to name
    them from (perf keeps one; ``steady_clock::now`` and node's clock land there)."""
    kinds = {f["name"]: f["kind"] for f in doc["functions"]}

    def kernel_named_by_us(key: str, ours: float, theirs: float) -> bool:
        return key == UNNAMED or (kinds.get(key) == "kernel" and theirs == 0.0)

    check_shares(doc, data, skip, extra, allowed=kernel_named_by_us, vdso=True)


PROGRAMS = ["nopie", "pie", "lld", "withlib", "stripbid", "striplink", "nog"]


def _prog(recordings: dict, name: str) -> dict:
    if name not in recordings["progs"]:
        require_tools("ld.lld")  # the only optional program
    return recordings["progs"][name]


@pytest.mark.parametrize("name", PROGRAMS)
def test_symbol_less_text_matches_perf_report(recordings: dict, name: str) -> None:
    p = _prog(recordings, name)
    extra: list[str] = []
    if name == "stripbid":  # the debug root that holds its build-id file
        extra = ["--symfs", str(recordings["symfs_bid"])]
        shutil.copytree(p["binary"].parent, Path(str(recordings["symfs_bid"]) + str(
            p["binary"].parent)), dirs_exist_ok=True)
    doc = _jitprof(p["script"], *extra)
    theirs = perf_self(p["data"], *extra)
    compare(doc, theirs, perf_unnamed=perf_unnamed_self(p["data"], *extra))
    check_all_rows(doc, p["data"], extra=tuple(extra))
    ours = {f["name"]: f for f in doc["functions"]}
    tag = "work::"
    # the hot functions by construction, with perf's demangled names
    for fn in ("spin_a", "spin_b", "tsum<double>"):
        assert tag + fn in ours, (tag + fn, sorted(ours)[:20])
        assert ours[tag + fn]["kind"] == "native"
    if name == "withlib":
        assert ours["HPHP::lib::hot_loop"]["dso"].endswith("libhot.so")
        # tiny is two instructions: whether a sample lands in it varies by CPU; where one
        # does (as perf report says), it is the library's
        assert ("tiny" in ours) == ("tiny" in theirs), theirs
        assert "tiny" not in ours or ours["tiny"]["dso"].endswith("libhot.so")
        # perf's synthesized PLT symbol, at whatever share the samples gave it
        plt_pct = ours["tiny@plt"]["self_pct"] if "tiny@plt" in ours else 0.0
        assert abs(plt_pct - theirs.get("tiny@plt", 0.0)) <= TOLERANCE
    d = doc["diagnostics"]
    # perf 6.1 callchains: file offsets; sample ips without callchains: raw
    assert d["address_forms"] == ["raw" if name == "nog" else "offset"]
    if not extra:  # (under a --symfs root the system libraries are not found)
        assert d["elf_frames_named"] >= 0.9 * d["elf_frames"] > 0
    files = {f["dso"]: f for f in d["elf_files"]}
    mine = files[str(p["binary"])]
    if name.startswith("strip"):
        assert mine["symbols_path"] != mine["path"] and mine["symbols_source"] == ".symtab"
    else:
        assert mine["symbols_path"] == mine["path"]
    # the full demangled form is kept beside perf's short one
    full = doc["functions"]
    assert any(f.get("full_names") for f in full)


@pytest.mark.parametrize("name", PROGRAMS)
def test_native_reader_equals_perf_script(recordings: dict, name: str) -> None:
    """Issue 15: PIE, non-PIE, lld, a shared library, stripped binaries (debug file by
    build-id, by debuglink) and samples without callchains: the perf.data read natively
    (frames named by jitprof's symbolizer) gives the profile the perf script path gives."""
    from jitprof.resolve import ElfOptions

    p = _prog(recordings, name)
    elf = ElfOptions()
    if name == "stripbid":
        elf = ElfOptions(symfs=str(recordings["symfs_bid"]))
        shutil.copytree(p["binary"].parent, Path(str(recordings["symfs_bid"]) + str(
            p["binary"].parent)), dirs_exist_ok=True)
    # under --symfs perf looks for ld.so under the root only (and names its start-up from
    # what it finds there), jitprof also finds the host's build-id debug file of it: a
    # sample in ld.so's start-up is `_start` to one and `_dl_start_user` to the other
    fold = frozenset({"ld-linux-x86-64.so.2"}) if name == "stripbid" else frozenset()
    native, _ = assert_native_equals_script(p["data"], name, fold, search_tmp=False, elf=elf)
    assert "work::spin_a" in {f.name for f in native.frames}


@pytest.fixture(scope="module")
def moved(recordings: dict) -> dict:
    """The binaries moved under a --symfs root: the recorded paths no longer exist."""
    root: Path = recordings["root"]
    bindir = root / "bin"
    symfs = root / "symfs"
    dest = Path(str(symfs) + str(bindir))
    dest.parent.mkdir(parents=True)
    shutil.move(str(bindir), dest)
    # the build-id debug file moves into this root too
    shutil.copytree(recordings["symfs_bid"] / "usr", symfs / "usr", dirs_exist_ok=True)
    assert not bindir.exists()
    return {"symfs": symfs}


@pytest.mark.parametrize("name", PROGRAMS)
def test_binaries_moved_under_symfs(recordings: dict, moved: dict, name: str) -> None:
    p = _prog(recordings, name)
    symfs = str(moved["symfs"])
    doc = _jitprof(p["script"], "--symfs", symfs)
    compare(doc, perf_self(p["data"], "--symfs", symfs),
            perf_unnamed=perf_unnamed_self(p["data"], "--symfs", symfs))
    check_all_rows(doc, p["data"], extra=("--symfs", symfs))
    names = {f["name"] for f in doc["functions"]}
    assert "work::spin_a" in names
    # without --symfs nothing can be found, and jitprof says so
    doc = _jitprof(p["script"])
    assert any("no readable ELF file" in w for w in doc["diagnostics"]["warnings"])
    assert "work::spin_a" not in {f["name"] for f in doc["functions"]}


def test_binary_option_points_one_dso_at_a_file(recordings: dict, moved: dict) -> None:
    p = _prog(recordings, "pie")
    recorded = str(p["binary"])
    copy = Path(str(moved["symfs"]) + recorded)
    doc = _jitprof(p["script"], "--binary", f"{os.path.basename(recorded)}={copy}")
    assert "work::spin_a" in {f["name"] for f in doc["functions"]}


# -- node ----------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def node_recording(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict]:
    require_tools("perf", "node")
    from tests.test_node_integration import WORK_JS

    out = tmp_path_factory.mktemp("node-elf")
    (out / "work.js").write_text(WORK_JS)
    data = out / "perf.data"
    before = set(os.listdir("/tmp"))
    r = subprocess.run(["perf", "record", "-N", "-F", "999", "-g", "-e", "cpu-clock", "-o",
                        str(data), "--", "node", "--perf-basic-prof", str(out / "work.js")],
                       capture_output=True, text=True, timeout=180, cwd=out)
    new_maps = [n for n in set(os.listdir("/tmp")) - before
                if n.startswith("perf-") and n.endswith(".map")]
    try:
        if r.returncode != 0:
            tool_failed("perf record node", RuntimeError(r.stderr[-500:]))
        assert new_maps, "node wrote no perf map"
        for n in new_maps:
            shutil.copy(f"/tmp/{n}", out / n)
        # perf report reads the map in /tmp while the oracle runs
        theirs = perf_self(data)
        script = _script(data, out / "perf.script")
        yield {"data": data, "script": script, "maps": [out / n for n in new_maps],
               "theirs": theirs}
    finally:
        for n in new_maps:
            Path("/tmp", n).unlink(missing_ok=True)


def test_node_binary_symbol_less(node_recording: dict) -> None:
    extra: list[str] = []
    for m in node_recording["maps"]:
        extra += ["--map", str(m)]
    doc = _jitprof(node_recording["script"], *extra)
    skip: set[str] = set()
    for m in node_recording["maps"]:
        skip |= overlapping_names(map_lines(m))
    compare(doc, node_recording["theirs"], skip)
    check_all_rows(doc, node_recording["data"], skip)
    # issue 15: node's own binary named natively as through perf script (-N: no build-id
    # cache copy of it)
    assert_native_equals_script(node_recording["data"], "node -N", search_tmp=False,
                                maps=[str(m) for m in node_recording["maps"]])
    node = os.path.realpath(shutil.which("node") or "node")
    native = [f for f in doc["functions"] if f["dso"] == node and f["kind"] != "unknown"]
    assert native, "no frame of node's own binary was named"
    files = {f["dso"]: f for f in doc["diagnostics"]["elf_files"]}
    assert files[node]["symbols"] > 10000


@pytest.mark.parametrize("reader", ["script", "native"])
def test_build_id_mismatch_from_perf_data(recordings: dict, moved: dict, reader: str) -> None:
    """A perf.data input: the recorded build-ids come from perf buildid-list (natively:
    from its build-id section). Another build at the recorded path names nothing (its
    frames stay [unknown]), never silently."""
    p = _prog(recordings, "pie")
    recorded: Path = p["binary"]
    recorded.parent.mkdir(exist_ok=True)
    _run(["g++", "-o", str(recorded), str(recordings["root"] / "pie.o"), "-pie",
          "-Wl,--build-id=0x" + "ab" * 20])
    try:
        doc = _jitprof(p["data"], "--perf-data-reader", reader)
    finally:
        shutil.rmtree(recorded.parent)
    warnings = doc["diagnostics"]["warnings"]
    assert any("build-id" in w and "ab" * 20 in w and "is not the recorded one" in w
               for w in warnings), warnings
    files = {f["dso"]: f for f in doc["diagnostics"]["elf_files"]}
    assert files[str(recorded)]["build_id_mismatch"]
    assert not any(f["name"].startswith("work::") for f in doc["functions"])
