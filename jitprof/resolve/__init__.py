"""Stage 3, resolve: raw samples + symbol tables -> a finished Profile.

``finder`` finds each process's maps and jitdumps, ``jitnames`` names JIT frames in bulk,
``elfnames`` names file and kernel frames, ``tables`` builds the profile's stack table,
``build`` runs the steps, ``options`` holds ``LoadOptions`` and ``load_profile``.

Rules (docs/naming.md):
- A frame in JIT memory is looked up in its process's perf map by jitprof's rule (later
  line wins), even where perf printed a name. Caller frames hold return addresses, so
  they are looked up at ``addr - 1``; the leaf, and the first user frame under kernel
  frames (where user code was interrupted), at ``addr``.
- If that process has no map, perf's printed name is kept (perf had a map); if the map
  does not contain the address the frame is ``[unknown]`` in ``[JIT]``.
- Frames perf named from ELF files or the kernel keep perf's name.
- A process with a jitdump (``jit-<pid>.dump``) is named from it instead of its perf map,
  by each sample's time where the JIT reused an address (``jitprof.resolve.jittime``).
"""

from jitprof.resolve.build import FileNaming, build_profile, choose_event
from jitprof.resolve.finder import MapFinder
from jitprof.resolve.options import ElfOptions, LoadOptions, load_profile
from jitprof.resolve.tables import JIT_DSO

__all__ = ["JIT_DSO", "ElfOptions", "FileNaming", "LoadOptions", "MapFinder", "build_profile",
           "choose_event", "load_profile"]
