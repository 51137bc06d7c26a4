"""Deprecated: moved to :mod:`netkit.bridges.sklearn` in netkit 0.2; this alias goes in 0.3."""

import warnings

from netkit.bridges.sklearn import MLPClassifier, MLPRegressor

__all__ = ["MLPClassifier", "MLPRegressor"]

warnings.warn("netkit.sklearn moved to netkit.bridges.sklearn; import it from there", DeprecationWarning, stacklevel=2)
