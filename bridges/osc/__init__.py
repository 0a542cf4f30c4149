"""The OSC bridge plugin (UDP on loopback, TCP with SLIP as an option): see docs/osc.md.

It also adds `scorehost client`, which talks to a running server over OSC or HTTP.
"""

from scorehost.core import hookimpl


@hookimpl
def register_bridges(register):
    from .server import OscBridge

    register(OscBridge())


@hookimpl
def register_commands(cli):
    from scorehost.bridges.client.cli import client

    cli.add_command(client)
