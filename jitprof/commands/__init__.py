"""The command line: the `jitprof` group, its commands (one module each), and the one
place where an error becomes a one-line message and an exit code (jitprof.errors)."""

from __future__ import annotations

import os
import sys

import click

from jitprof import __version__
from jitprof.commands import demo, diff, export, maps, record, report, symbolize, top, tui
from jitprof.errors import (
    EXIT_INPUT,
    EXIT_INTERNAL,
    EXIT_INTERRUPTED,
    EXIT_OK,
    JitprofError,
)


class _Group(click.Group):
    """Every error a command raises ends here: a domain error (``JitprofError``: its
    ``exit_code``; ``CommandError`` carries one chosen where it is raised), an OSError
    writing the output (1), Ctrl-C (130), a bug (70, the traceback with JITPROF_DEBUG=1).
    click's usage errors (2) are click's."""

    def invoke(self, ctx: click.Context) -> object:
        try:
            return super().invoke(ctx)
        except JitprofError as e:
            click.echo(f"jitprof: error: {e}", err=True)
            ctx.exit(e.exit_code)
        except BrokenPipeError:  # `jitprof report ... | head`
            sys.stderr.close()
            ctx.exit(EXIT_OK)
        except (click.ClickException, click.exceptions.Exit, click.Abort):
            raise  # click's own usage errors and exits
        except KeyboardInterrupt:
            click.echo("jitprof: interrupted", err=True)
            ctx.exit(EXIT_INTERRUPTED)
        except OSError as e:  # writing the output, mostly
            where = f"{e.filename}: " if e.filename else ""
            click.echo(f"jitprof: error: {where}{e.strerror or e}", err=True)
            ctx.exit(EXIT_INPUT)
        except Exception as e:  # a bug: one line for the user, the traceback on request
            if os.environ.get("JITPROF_DEBUG"):
                raise
            click.echo(f"jitprof: internal error: {type(e).__name__}: {e} (a bug; set "
                       "JITPROF_DEBUG=1 for the traceback and please report it)", err=True)
            ctx.exit(EXIT_INTERNAL)


class _DefaultGroup(_Group):
    """``jitprof INPUT...`` is ``jitprof tui INPUT...``: a first argument that is not a
    command (nor -h/--help/--version) opens the TUI. Commands win over files of the same
    name: ``jitprof tui report`` or ``jitprof ./report`` opens a file named ``report``."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if args and args[0] not in self.commands and args[0] not in (
                "-h", "--help", "--version"):
            args = ["tui", *args]
        elif len(args) == 1 and args[0] in ("report", "tui") and os.path.exists(args[0]):
            raise click.UsageError(f"{args[0]!r} is a jitprof command; to open the file "
                                   f"named {args[0]}: jitprof tui ./{args[0]}")
        return super().parse_args(ctx, args)


@click.group(cls=_DefaultGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="jitprof")
def main() -> None:
    """Name JIT-compiled code (HHVM, V8/Node, Python -X perf, Java) in Linux perf profiles.

    `jitprof INPUT...` (no command) opens the interactive TUI: `jitprof tui INPUT...`;
    `jitprof demo` opens it on the bundled samples.

    Exit codes: 0 ok, 1 bad input, 2 usage error, 3 no samples, 4 cannot record (record,
    top: no such process, perf missing or not permitted, map refused), 70 internal error.
    """
    _tune_malloc()


def _tune_malloc() -> None:
    """glibc gives arrays above 128 KiB their own mmap and unmaps them when freed, so a
    command that makes and drops numpy temporaries zero-fills fresh pages again and
    again (a node report: ~78k page faults, 0.2 s of system time). Keeping freed memory
    for reuse (mmap only from 64 MiB, trim from 128 MiB) halves the faults for ~10 MB
    more peak (benchmarks/README.md, issue 15). Elsewhere than glibc: nothing."""
    import ctypes

    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):
        return
    m_trim_threshold, m_mmap_threshold = -1, -3
    mallopt(m_mmap_threshold, 64 << 20)
    mallopt(m_trim_threshold, 128 << 20)


for _command in (report.report, tui.tui, demo.demo, export.export_cmd, record.record,
                 maps.maps_cmd, diff.diff, top.top, symbolize.symbolize_cmd):
    main.add_command(_command)

__all__ = ["main"]
