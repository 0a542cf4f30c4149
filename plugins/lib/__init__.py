"""Code the autoregressive model plugins share: symusic conversion, tokens, grammar masks, decoding."""
