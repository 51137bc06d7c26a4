"""Model files: HDF5 and a restricted pickle, written atomically.

``save_model``/``load_model`` pick the format from the extension (``.h5``/``.hdf5``, ``.pkl``/``.pickle``);
the layouts are documented in the README, section "Model files".
"""

from netkit.io.modelfile import FORMAT_NAME, FORMAT_VERSION, ModelFile
from netkit.io.storage import MODEL_EXTENSIONS, load, load_model, model_format, save, save_model

__all__ = [
    "FORMAT_NAME",
    "FORMAT_VERSION",
    "MODEL_EXTENSIONS",
    "ModelFile",
    "load",
    "load_model",
    "model_format",
    "save",
    "save_model",
]
