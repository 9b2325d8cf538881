"""A minimal walker of perf.data files for tests, from the kernel tree's
``tools/perf/Documentation/perf.data-file-format.txt`` and ``perf_event.h`` (independent of
jitprof.parse.perfdata: it shares no code with it). It finds where things are (the data
section, each record, the first callchain) so that tests can count samples and cut or
mangle a real file at known places."""

from __future__ import annotations

import struct
from dataclasses import dataclass, field

MAGIC2 = b"PERFILE2"
MAGIC1 = b"PERFFILE"  # version 1, which perf has not written for a decade
HEADER_SIZE = 104  # magic, size, attr_size, attrs/data/event_types sections, 256 feature bits
PIPE_HEADER_SIZE = 16

SAMPLE, FINISHED_ROUND, HEADER_ATTR, COMPRESSED = 9, 68, 64, 81
NAMES = {1: "MMAP", 2: "LOST", 3: "COMM", 4: "EXIT", 5: "THROTTLE", 6: "UNTHROTTLE",
         7: "FORK", 8: "READ", 9: "SAMPLE", 10: "MMAP2", 11: "AUX", 12: "ITRACE_START",
         13: "LOST_SAMPLES", 14: "SWITCH", 15: "SWITCH_CPU_WIDE", 16: "NAMESPACES",
         17: "KSYMBOL", 18: "BPF_EVENT", 19: "CGROUP", 20: "TEXT_POKE",
         21: "AUX_OUTPUT_HW_ID", 64: "HEADER_ATTR", 65: "HEADER_EVENT_TYPE",
         66: "HEADER_TRACING_DATA", 67: "HEADER_BUILD_ID", 68: "FINISHED_ROUND",
         69: "ID_INDEX", 70: "AUXTRACE_INFO", 71: "AUXTRACE", 72: "AUXTRACE_ERROR",
         73: "THREAD_MAP", 74: "CPU_MAP", 75: "STAT_CONFIG", 76: "STAT", 77: "STAT_ROUND",
         78: "EVENT_UPDATE", 79: "TIME_CONV", 80: "HEADER_FEATURE", 81: "COMPRESSED",
         82: "FINISHED_INIT"}

# perf_event_attr.sample_type bits, in the order their fields follow in a SAMPLE record
IP, TID, TIME, ADDR, READ, CALLCHAIN, ID, CPU, PERIOD, STREAM_ID = (
    1 << 0, 1 << 1, 1 << 2, 1 << 3, 1 << 4, 1 << 5, 1 << 6, 1 << 7, 1 << 8, 1 << 9)
IDENTIFIER = 1 << 16
ATTR_SAMPLE_TYPE = 24  # perf_event_attr: type u32, size u32, config, sample_period, sample_type


@dataclass
class Record:
    offset: int  # of its header in the file
    type: int
    size: int


@dataclass
class Layout:
    pipe: bool
    attr_size: int
    attrs: tuple[int, int]  # (offset, size) of the attrs section (file mode)
    data: tuple[int, int]  # (offset, size) of the data section; pipe: (16, rest of file)
    sample_types: list[int]  # of each attr
    records: list[Record] = field(default_factory=list)
    end: int = 0  # where the last whole record ends

    @property
    def samples(self) -> list[Record]:
        return [r for r in self.records if r.type == SAMPLE]

    def counts(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for r in self.records:
            name = NAMES.get(r.type, str(r.type))
            out[name] = out.get(name, 0) + 1
        return out


def layout(buf: bytes) -> Layout:
    """The sections and the records of a perf.data (file or pipe mode), up to the first
    record that does not fit (a file cut short)."""
    magic = buf[:8]
    assert magic == MAGIC2, magic
    size = struct.unpack_from("<Q", buf, 8)[0]
    if size == PIPE_HEADER_SIZE:
        lay = Layout(True, 0, (0, 0), (PIPE_HEADER_SIZE, len(buf) - PIPE_HEADER_SIZE), [])
    else:
        attr_size, a_off, a_size, d_off, d_size = struct.unpack_from("<QQQQQ", buf, 16)
        lay = Layout(False, attr_size, (a_off, a_size), (d_off, d_size), [])
        for off in range(a_off, a_off + a_size, attr_size):
            lay.sample_types.append(struct.unpack_from("<Q", buf, off + ATTR_SAMPLE_TYPE)[0])
    # a data size of 0: perf was killed before it wrote the header again; data to the end
    data_end = lay.data[0] + lay.data[1] if lay.data[1] else len(buf)
    unzstd = None
    inner: list[bytes] = []
    off, end = lay.data[0], min(len(buf), data_end)
    while off + 8 <= end:
        rtype, _misc, rsize = struct.unpack_from("<IHH", buf, off)
        if rsize < 8 or off + rsize > end:
            break
        lay.records.append(Record(off, rtype, rsize))
        if lay.pipe and rtype == HEADER_ATTR:  # perf_event_attr, then its ids
            lay.sample_types.append(struct.unpack_from("<Q", buf, off + 8 + ATTR_SAMPLE_TYPE)[0])
        if rtype == COMPRESSED:  # perf record -z: one zstd stream across the records
            if unzstd is None:
                import zstandard

                unzstd = zstandard.ZstdDecompressor().decompressobj()
            inner.append(unzstd.decompress(buf[off + 8:off + rsize]))
        off += rsize
    lay.end = off
    stream = b"".join(inner)
    off = 0
    while off + 8 <= len(stream):  # the records inside: offset -1 (not in the file)
        rtype, _misc, rsize = struct.unpack_from("<IHH", stream, off)
        if rsize < 8:
            break
        lay.records.append(Record(-1, rtype, rsize))
        off += rsize
    return lay


def callchain_offset(buf: bytes, rec: Record, sample_type: int) -> int | None:
    """Where the callchain's ``nr`` of a SAMPLE record is (None: no callchain, or a
    READ group in the way that this walker does not size)."""
    if not sample_type & CALLCHAIN or sample_type & READ:
        return None
    off = rec.offset + 8
    for bit, size in ((IDENTIFIER, 8), (IP, 8), (TID, 8), (TIME, 8), (ADDR, 8), (ID, 8),
                      (STREAM_ID, 8), (CPU, 8), (PERIOD, 8)):
        if sample_type & bit:
            off += size
    return off


def first_callchain(buf: bytes) -> tuple[Record, int]:
    """The first SAMPLE with a callchain of at least two entries: (record, offset of nr)."""
    lay = layout(buf)
    assert len(lay.sample_types) == 1, "one event: every sample has the same layout"
    for rec in lay.samples:
        off = callchain_offset(buf, rec, lay.sample_types[0])
        if off is not None and struct.unpack_from("<Q", buf, off)[0] >= 2:
            return rec, off
    raise AssertionError("no sample with a callchain")
