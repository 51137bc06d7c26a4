"""netkit: a from-scratch neural-network toolkit on NumPy."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("netkit")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0.0.0"

__all__ = ["__version__"]
