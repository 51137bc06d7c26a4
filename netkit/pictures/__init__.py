"""Pictures as files, drawn with Pillow: loss curves (PNG and SVG), weight grids, digit galleries.

Core code: NumPy and Pillow only (no click, no rich), so the CLI, the web page and a notebook share it.
"""

from netkit.pictures.of_models import feature_maps_picture, loss_picture, weights_picture

__all__ = ["feature_maps_picture", "loss_picture", "weights_picture"]
