"""`python -m jitprof`: the command line."""

from jitprof.commands import main

if __name__ == "__main__":
    main()
