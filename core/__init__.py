"""scorehost core: the score model, requests, the plugin host, the job engine and the CLI."""

from .hookspecs import hookimpl

__all__ = ["hookimpl"]
