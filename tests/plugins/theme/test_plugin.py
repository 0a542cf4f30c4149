"""The theme plugin is offered once it ships, and not before: its model is registered, and the
plugin a built-in, exactly when trained weights and a model card are there; its hooks stay cheap
(no torch or numpy to list it)."""

from __future__ import annotations

import subprocess
import sys

import scorehost.plugins.theme as plugin
from scorehost.core.host import DEFAULT_PLUGINS
from scorehost.plugins.theme.weights import shipped


def test_the_model_is_registered_and_built_in_exactly_when_weights_and_a_card_ship():
    registered = []
    plugin.register_models(registered.append)
    assert [m.model_id for m in registered] == (["theme"] if shipped() else [])
    assert ("scorehost.plugins.theme" in DEFAULT_PLUGINS) == shipped()


def test_shipped_needs_weights_and_the_card(tmp_path, monkeypatch):
    import scorehost.plugins.theme.weights as weights

    monkeypatch.setattr(weights, "MODEL_CARD", tmp_path / "MODEL_CARD.md")
    (tmp_path / "theme.safetensors").write_bytes(b"")
    (tmp_path / "theme.json").write_text("{}")
    assert not weights.shipped(tmp_path)  # weights without a card with held-out figures
    (tmp_path / "MODEL_CARD.md").write_text("# theme\n")
    assert weights.shipped(tmp_path)
    (tmp_path / "theme.safetensors").unlink()
    assert not weights.shipped(tmp_path)


def test_listing_the_plugin_and_its_model_imports_no_torch_or_numpy():
    code = (
        "import sys, click\n"
        "import scorehost.plugins.theme as p\n"
        "from scorehost.plugins.theme.model import ThemeModel\n"
        "p.register_models(lambda m: None)\n"
        "cli = click.Group(commands={'train': click.Group('train'), 'eval': click.Group('eval')})\n"
        "p.register_commands(cli)\n"
        "ThemeModel.Options.model_json_schema()\n"
        "print(sorted(m for m in ('torch', 'numpy', 'music21') if m in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]", out.stderr


def test_checking_a_request_imports_no_torch(tmp_path):
    """A server checks a request when it comes (POST /v1/jobs answers after the check): with
    torch to import first, a fresh server's first answer took 34 s on a loaded 2-core machine,
    past MuseScore's 30 s. The network loads, with torch, when the job runs."""
    from .serving import export_tiny

    export_tiny(tmp_path)
    code = (
        "import sys\n"
        "from music21 import corpus\n"
        "from scorehost.core.cliparse import build_request\n"
        "from scorehost.core.musicxml import score_from_music21\n"
        "from scorehost.plugins.theme.model import ThemeModel, ThemeOptions\n"
        "score = score_from_music21(corpus.parse('oneills1850').scores[43])\n"
        "request = build_request('theme', score, ['0:9-24'], ['theme:1-4'], {})\n"
        f"ThemeModel(weights=__import__('pathlib').Path({str(tmp_path)!r})).check(request, ThemeOptions())\n"
        "print('torch' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False", out.stderr
