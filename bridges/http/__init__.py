"""The HTTP bridge plugin."""

from scorehost.core import hookimpl


@hookimpl
def register_bridges(register):
    from .server import HttpBridge

    register(HttpBridge())
