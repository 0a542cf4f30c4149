"""Clients of a running scorehost server: `scorehost client` (OSC or HTTP) and an OSC client class."""
