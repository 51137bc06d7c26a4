"""Model files: HDF5 and a restricted pickle, written atomically."""
