"""`jitprof symbolize ADDRESS...`: addresses named as perf names them, from a live process
or from a map, a jitdump and ELF files."""

from __future__ import annotations

import sys
from collections.abc import Sequence

import click

from jitprof.commands.options import TEXT_OR_JSON, TextOrJson, parse_binaries


@click.command("symbolize")
@click.argument("addresses", nargs=-1)
@click.option("--pid", type=int, default=None,
              help="A live process: its /proc/PID/maps, /tmp/perf-PID.map, jitdump and the "
                   "ELF symbols of its mapped files.")
@click.option("--map", "map_file", default=None, metavar="PATH", help="A perf map.")
@click.option("--jitdump", default=None, metavar="PATH",
              help="A jitdump (wins over the map for JIT code).")
@click.option("--binary", "binaries", multiple=True, metavar="DSO=PATH",
              help="Read the symbols of mapped file DSO (its path or file name) from PATH "
                   "(repeatable), e.g. an unstripped copy.")
@click.option("--time", "at_time", type=float, default=None, metavar="SECONDS",
              help="Name jitdump code as loaded at this time (CLOCK_MONOTONIC seconds, as "
                   "perf script prints with -k CLOCK_MONOTONIC); default: the latest.")
@click.option("--srcline", is_flag=True, help="Append ' at FILE:LINE' (jitdump DEBUG_INFO).")
@click.option("--format", "fmt", type=click.Choice(TEXT_OR_JSON), default="text",
              show_default=True)
def symbolize_cmd(addresses: Sequence[str], pid: int | None, map_file: str | None,
                  jitdump: str | None, binaries: Sequence[str], at_time: float | None,
                  srcline: bool, fmt: TextOrJson) -> None:
    """Name ADDRESSes (hex; read from stdin, one a line, when none are given) like perf
    does, one line each: `0xADDR NAME+0xOFF [DSO]`, `0xADDR ?? [DSO]` when unknown."""
    import json

    from jitprof.symbols import addrsym as sym
    from jitprof.symbols.jitdump import load_jitdump
    from jitprof.symbols.perfmap import load_perf_map

    if pid is None and map_file is None and jitdump is None:
        raise click.UsageError("give --pid PID, --map FILE or --jitdump FILE")
    pairs = parse_binaries(binaries)
    if pid is not None:
        s = sym.for_pid(pid, perf_map=map_file, jitdump=jitdump, binaries=pairs)
    else:
        s = sym.AddressNamer(perf_map=load_perf_map(map_file) if map_file else None,
                             dump=load_jitdump(jitdump) if jitdump else None, binaries=pairs)
    if at_time is not None:
        s.time_ns = round(at_time * 1e9)
    if addresses:
        addrs = [sym.parse_address(a, "argument") for a in addresses]
    else:
        addrs = [sym.parse_address(line, "-", n)
                 for n, line in enumerate(sys.stdin, 1) if line.strip()]
    out = s.symbolize_all(addrs)
    if fmt == "json":
        click.echo(json.dumps([o.as_dict() for o in out], indent=1))
    else:
        for o in out:
            click.echo(o.text(srcline))
