"""Dataset plumbing: typed results, IDX parsing, file search, downloads, image preprocessing.

Modules, one job each: :mod:`.dataset` (the typed result and splits), :mod:`.idx` (the IDX format),
:mod:`.locate` (search order and user cache), :mod:`.download` (mirrors, verification, progress),
:mod:`.idxset` (MNIST-like four-file datasets: status, download, load), :mod:`.images` (the one image
preprocessing, shared with ``netkit predict``), :mod:`.imagefolder` (class folders of images),
:mod:`.csvfile` (label-first CSV), :mod:`.decoded` (the cache of decoded arrays), :mod:`.pixels`.
"""

from netkit.data.dataset import Dataset, DatasetWarning, Split, one_hot, split_validation

__all__ = ["Dataset", "DatasetWarning", "Split", "one_hot", "split_validation"]
