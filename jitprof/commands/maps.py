"""`jitprof maps FILE...`: the health of perf maps, and --tidy to compact them."""

from __future__ import annotations

from collections.abc import Sequence

import click

from jitprof.commands.options import TEXT_OR_JSON, TextOrJson
from jitprof.errors import InputError


@click.command("maps")
@click.argument("files", nargs=-1, required=True)
@click.option("--format", "fmt", type=click.Choice(TEXT_OR_JSON), default="text",
              show_default=True)
@click.option("--tidy", is_flag=True,
              help="Write the FILEs as one compacted map to -o: later lines win, older "
                   "ranges cut or split around them, sorted, no overlaps (perf then names "
                   "every address as jitprof does).")
@click.option("-o", "--output", type=click.Path(dir_okay=False), default=None,
              help="Where --tidy writes (never one of the FILEs).")
def maps_cmd(files: Sequence[str], fmt: TextOrJson, tidy: bool, output: str | None) -> None:
    """Health of perf maps: entries, bad lines (with numbers), overlaps, zero sizes, address
    span, names by kind; with --tidy, a compacted map. The FILEs are never changed."""
    import dataclasses
    import json

    from jitprof.symbols import maphealth
    from jitprof.symbols.perfmap import load_perf_map

    if tidy and not output:
        raise click.UsageError("--tidy needs -o OUTPUT")
    if output and not tidy:
        raise click.UsageError("-o is for --tidy")
    if output:
        maphealth.check_output(output, list(files))
    loaded = [load_perf_map(p) for p in files]
    one = maphealth.owners(loaded) if len(loaded) == 1 else None  # shared by both
    reports = [maphealth.check_map(p, pm, one) for p, pm in zip(files, loaded, strict=True)]
    if fmt == "json":
        click.echo(json.dumps([dataclasses.asdict(r) for r in reports], indent=2))
    else:
        click.echo("".join(maphealth.render_report(r) for r in reports), nl=False)
    for r, pm in zip(reports, loaded, strict=True):
        if r.entries == 0 and r.bad:
            # every line bad: the health report above is printed, but this is no perf map
            first = pm.diagnostics[0].lineno if pm.diagnostics else 0
            raise InputError(r.path, "not a perf map: no line is 'START SIZE NAME' in hex "
                             f"({r.bad:,} bad lines, the first here)", first)
    if tidy and output:
        entries = maphealth.tidy(loaded, one)
        maphealth.write_map(entries, output, list(files))
        click.echo(f"wrote {output}: {len(entries):,} entries from "
                   f"{sum(len(pm) for pm in loaded):,}", err=True)
