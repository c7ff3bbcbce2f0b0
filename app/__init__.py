"""Composition root: settings, authentication and tenancy, the ASGI app and the CLI."""
