"""The network: the layer contract, ``Sequential`` and what it computes (forward, backward, scores)."""
