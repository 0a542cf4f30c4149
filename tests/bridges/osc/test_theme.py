"""theme through a real `scorehost serve`: liblo's oscsend asks for 16 bars of a folk tune
developed from its 4-bar theme and oscdump shows the replies, the retrieved theme's warning
and the errors; `scorehost client edit -m theme -c theme:1-4` does the same over OSC and HTTP.
On tiny random weights, and on the shipped ones (where the theme must recur), as
tests/plugins/theme/serving.py explains."""

from __future__ import annotations

import shutil

import pytest
from click.testing import CliRunner

from scorehost.bridges.client.cli import client
from scorehost.core.scoreio import read_score, write_score

from ...plugins.theme.conftest import tune
from ...plugins.theme.serving import assert_developed, check_development, fill_span, serve, variation_paths
from .test_liblo import Dump, _oscsend

pytestmark = pytest.mark.skipif(
    not (shutil.which("oscsend") and shutil.which("oscdump")),
    reason="liblo-tools (oscsend, oscdump) is not installed: apt-get install liblo-tools",
)


@pytest.fixture(scope="module")
def server(theme_weights, tmp_path_factory):
    running = serve(theme_weights, tmp_path_factory.mktemp("allowed"))
    yield running
    assert running.stop() == 0, running.lines


def oscsend_edit(server, tmp_path, *args: str, until: str = "/scorehost/done") -> list:
    dump = Dump(tmp_path)
    try:
        _oscsend(server.ports["osc"], "/scorehost/edit", *args, f"reply={dump.port}")
        return dump.wait_for(until, 120)
    finally:
        dump.close()


def test_oscsend_develops_the_theme_of_bars_1_to_4_in_bars_9_to_24(server, theme_weights, tmp_path):
    source = write_score(tune(), server.folder / "tune.musicxml")
    out = server.folder / "developed.musicxml"
    count = theme_weights.variations
    messages = oscsend_edit(server, tmp_path, "d1", "model=theme", f"in={source}", f"out={out}",
                            "region=0:9-24", "constraint=theme:1-4", "seed=1", f"variations={count}")  # fmt: skip
    addresses = [a for a, _ in messages]
    assert addresses[0] == "/scorehost/accepted" and addresses[-1] == "/scorehost/done", (
        messages,
        server.lines,
    )
    assert "/scorehost/progress" in addresses and "/scorehost/warning" not in addresses
    assert messages[-1][1][0] == "d1"
    paths = variation_paths(out, count)
    check_development(theme_weights, read_score(source), [read_score(p) for p in paths])


def test_without_a_theme_the_warning_says_which_bars_retrieval_took(server, tmp_path):
    source = write_score(tune(), server.folder / "tune-retrieved.musicxml")
    out = server.folder / "retrieved.mid"
    messages = oscsend_edit(server, tmp_path, "d2", "model=theme", f"in={source}", f"out={out}",
                            "region=0:9-24", "seed=2")  # fmt: skip
    warnings = [values for address, values in messages if address == "/scorehost/warning"]
    assert [w[2] for w in warnings] == [
        "theme: bars 1-4 of track 0 (Track 1), taken from the context before the region "
        "(retrieval; it recurs at bar 26)"
    ], messages
    assert messages[-1][0] == "/scorehost/done"
    assert_developed(read_score(source), read_score(out), 0, fill_span(read_score(source)), 16)


def test_a_theme_overlapping_the_region_gets_one_error(server, tmp_path):
    source = write_score(tune(), server.folder / "tune-overlap.musicxml")
    messages = oscsend_edit(server, tmp_path, "d3", "model=theme", f"in={source}", "region=0:3-10",
                            "constraint=theme:1-4", until="/scorehost/error")  # fmt: skip
    errors = [values for address, values in messages if address == "/scorehost/error"]
    assert len(errors) == 1 and errors[0][:3] == ["d3", "", "bad_request"], messages
    assert "overlaps region 0" in errors[0][3]
    assert [a for a, _ in messages] == ["/scorehost/error"]


@pytest.mark.parametrize("via", ["osc", "http"])
def test_scorehost_client_edit_with_theme(server, theme_weights, via):
    """`scorehost client edit tune.musicxml -o out.musicxml -m theme -r 0:9-24 -c theme:1-4`."""
    source = write_score(tune(), server.folder / f"tune-{via}.musicxml")
    out = server.folder / f"developed-{via}.musicxml"
    result = CliRunner().invoke(
        client,
        ["--via", via, "--port", str(server.ports[via]), "--timeout", "120", "edit", str(source),
         "-o", str(out), "-m", "theme", "-r", "0:9-24", "-c", "theme:1-4", "--seed", "3",
         "-n", str(theme_weights.variations)],
    )  # fmt: skip
    assert result.exit_code == 0, (result.output, result.exception, server.lines)
    paths = variation_paths(out, theme_weights.variations)
    assert all(f"wrote {p}" in result.output for p in paths), result.output
    check_development(theme_weights, read_score(source), [read_score(p) for p in paths])
