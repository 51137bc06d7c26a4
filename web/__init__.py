"""netkit's local web page and its JSON API (installed as ``netkit.web``).

Like ``netkit.cli`` it is an interface: it renders what the core reports and calls the core's API
(``Sequential.activations``, ``predict_proba``, ``evaluate``, ``to_mnist``); it does no training maths.
"""
