"""Deprecated: moved to :mod:`netkit.bridges.export` in netkit 0.2; this alias goes in 0.3."""

import warnings

from netkit.bridges.export import load_npz, save_npz, save_onnx, to_onnx

__all__ = ["load_npz", "save_npz", "save_onnx", "to_onnx"]

warnings.warn("netkit.export moved to netkit.bridges.export; import it from there", DeprecationWarning, stacklevel=2)
