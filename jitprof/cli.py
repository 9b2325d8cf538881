"""The entry point of installs made before the commands moved: jitprof.commands is the
command line."""

from jitprof.commands import main

__all__ = ["main"]
