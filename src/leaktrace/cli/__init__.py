"""The command line: thin over the library. Each area adds its commands to one Typer app."""

from leaktrace.cli.app import app, main

__all__ = ["app", "main"]
