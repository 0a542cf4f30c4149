import pytest
import torch

from scorehost.core.device import choose_device
from scorehost.core.errors import ScorehostError


def test_auto_picks_cuda_only_when_present(monkeypatch):
    monkeypatch.delenv("SCOREHOST_DEVICE", raising=False)
    assert choose_device() == ("cuda" if torch.cuda.is_available() else "cpu")
    assert choose_device("cpu") == "cpu"


def test_environment_overrides_and_bad_names_are_refused(monkeypatch):
    monkeypatch.setenv("SCOREHOST_DEVICE", "cpu")
    assert choose_device() == "cpu"
    with pytest.raises(ScorehostError, match="unknown device 'tpu'"):
        choose_device("tpu")
    if not torch.cuda.is_available():
        with pytest.raises(ScorehostError, match="CUDA is not available"):
            choose_device("cuda:0")
