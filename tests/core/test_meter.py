"""One meter reader (core.meter.parse_meter) for OSC's meter= and the MIDI bridge's midi_meter."""

import pytest

from scorehost.core.errors import RequestError
from scorehost.core.meter import parse_meter
from scorehost.core.score import TimeSignature


@pytest.mark.parametrize(("text", "meter"), [("4/4", (4, 4)), (" 6 / 8 ", (6, 8)), ("64/64", (64, 64))])
def test_a_meter_is_read(text, meter):
    assert parse_meter(text) == meter
    TimeSignature(tick=0, numerator=meter[0], denominator=meter[1])  # what the score takes


@pytest.mark.parametrize("text", ["3/5", "0/4", "65/4", "4", "4/4/4", "9" * 5000 + "/4", ""])
def test_what_no_time_signature_can_hold_is_refused_naming_the_field(text):
    with pytest.raises(RequestError, match=r"^midi_meter: write the meter as 4/4"):
        parse_meter(text, "midi_meter")
