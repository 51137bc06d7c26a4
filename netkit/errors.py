"""Errors a user can act on. The CLI prints any NetkitError as one line and exits with code 1."""

from __future__ import annotations


class NetkitError(Exception):
    """Base class: a problem with the user's input, files or data, not a bug in netkit."""


class PluginError(NetkitError):
    """An unknown plugin name, a plugin that failed to load, or bad plugin options."""


class ConfigError(NetkitError):
    """An invalid model or training configuration (layer size 0, negative learning rate, shape mismatch)."""


class DatasetError(NetkitError):
    """Missing, corrupt or mismatched dataset files."""


class ModelFileError(NetkitError):
    """A model file that cannot be read or written."""


class TrainingDiverged(NetkitError):
    """The loss became NaN or infinite."""


class NetkitWarning(UserWarning):
    """Base class of netkit's warnings: something that runs but is probably not what the user meant."""


class InputRangeWarning(NetkitWarning):
    """Inputs outside [0, 1], the range netkit's datasets give and its models are trained on."""


class DatasetMismatchWarning(NetkitWarning):
    """A model scored on a dataset other than the one it was trained on."""
