"""The MuseScore plugin (scorehost.qml), shipped as package data; it talks to the HTTP bridge."""

from pathlib import Path

PLUGIN_QML = Path(__file__).with_name("scorehost.qml")
