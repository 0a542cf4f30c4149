"""The MIDI bridge plugin: standard MIDI files and live virtual ports."""
