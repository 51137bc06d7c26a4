"""Training: the loop, batches and augmentation, and the run semantics every interface shares."""
