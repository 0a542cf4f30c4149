"""The OSC bridge plugin (UDP on loopback): see docs/osc.md."""
