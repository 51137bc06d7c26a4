"""The textbook forms of netkit's built-in plugins: the maths as a book writes it, and nothing else.

Read these first. Each class computes exactly what its fast namesake in ``netkit.plugins`` computes (the
fast one says how it is made fast, and ``netkit.testing.check_twin`` proves the two agree), but here every
formula is the code itself: arrays are allocated freely, there are no ``out`` buffers and no memory-layout
rules. ``netkit train --textbook`` trains with these only, so you can step through them in a debugger.

A plugin of your own may be written in this form too: netkit adapts it wherever a fast plugin would go.

- :mod:`.activations` — ``forward(z) -> a`` and ``backward(z, a, grad) -> dL/dz``
- :mod:`.losses` — ``value(a, y) -> float``, ``gradient(a, y) -> dL/da``, ``fused_gradient(a, y) -> dL/dz``
- :mod:`.layers` — ``dense``: z = x W + b, a = f(z), and its backward pass
- :mod:`.optimizers` — one update formula each
"""
