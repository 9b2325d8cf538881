"""The interactive terminal UI (Textual): the only package besides cli.py that imports it."""
