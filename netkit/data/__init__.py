"""Dataset plumbing: typed results, IDX parsing, file search, downloads, image preprocessing."""

from .dataset import Dataset, Split, one_hot, split_validation

__all__ = ["Dataset", "Split", "one_hot", "split_validation"]
