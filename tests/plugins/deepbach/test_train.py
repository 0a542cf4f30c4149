from __future__ import annotations

import numpy as np
import torch

from scorehost.plugins.deepbach.data import Encoded, make_splits, transpositions
from scorehost.plugins.deepbach.encoding import META, PAD
from scorehost.plugins.deepbach.train import masked_loss, random_masks, sample_windows
from scorehost.plugins.deepbach.weights import load_network, save_weights


def _encoded(chorale, vocab) -> Encoded:
    from scorehost.plugins.deepbach.data import encode_split

    score = chorale("bach/bwv66.6")
    return encode_split(["a"], {"a": score}, vocab)


def test_split_is_by_chorale_deterministic_and_disjoint():
    names = [f"bwv{i}.mxl" for i in range(100)]
    first, second = make_splits(names), make_splits(list(reversed(names)))
    assert first == second
    assert [len(first[s]) for s in ("train", "valid", "test")] == [80, 10, 10]
    assert not set(first["train"]) & set(first["test"])


def test_transpositions_keep_voices_in_range(chorale, vocab):
    data = _encoded(chorale, vocab)
    low, high = transpositions(data.grid, vocab)
    assert low <= 0 <= high


def test_windows_masks_and_one_training_step(chorale, vocab, tiny_net):
    data = _encoded(chorale, vocab)
    tokens, meta = sample_windows(data, 8, 16, np.random.default_rng(0))
    assert tokens.shape == (8, 4, 16) and meta.shape == (8, META, 16)
    mask = random_masks(tokens, torch.Generator().manual_seed(0))
    assert not (mask & (tokens == PAD)).any()
    net = tiny_net().train()
    loss, count = masked_loss(net, tokens, meta, mask)
    loss.backward()
    assert count > 0 and torch.isfinite(loss)


def test_weights_round_trip_through_safetensors(tmp_path, vocab, tiny_net):
    net = tiny_net()
    save_weights(net, vocab, {"step": 1}, tmp_path)
    loaded, loaded_vocab = load_network("cpu", tmp_path)
    assert loaded_vocab == vocab
    for (name, a), (_, b) in zip(net.state_dict().items(), loaded.state_dict().items(), strict=True):
        assert torch.equal(a, b), name


def test_held_out_loss_leaves_the_network_in_its_mode(chorale, vocab, tiny_net):
    """eval deepbach measures NLL, then samples: dropout must not come back on in between."""
    from scorehost.plugins.deepbach.train import evaluate

    data, net = _encoded(chorale, vocab), tiny_net()
    assert not net.training
    evaluate(net, data, "cpu", batches=1, batch=2)
    assert not net.training
    net.train()
    evaluate(net, data, "cpu", batches=1, batch=2)
    assert net.training
