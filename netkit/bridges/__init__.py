"""Bridges to other tools: a scikit-learn estimator, ONNX and ``.npz`` export."""
