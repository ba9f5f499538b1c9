"""leaktrace: find what left an organisation's network, from which PC, to which server, and stop it."""

__version__ = "0.1.0"
