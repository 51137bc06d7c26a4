"""Fast equals textbook: proof that a fast plugin computes what its readable twin computes.

Part of :mod:`netkit.testing` (import them from there). :func:`check_twin` runs the check for a plugin's
group on a class that names a ``textbook_twin``; netkit runs it on every registered plugin that has one.
Each check covers batch sizes :data:`BATCH_SIZES`, rows-first and transposed (column-major) arrays,
float32 and float64, and ``out`` aliased to the incoming gradient; :func:`check_training_twin` trains whole
networks both ways for several steps.

Agreement is measured as max|fast - textbook| / max(1, max|textbook|), which must stay below
:data:`TOLERANCE` for the dtype (:data:`TRAINING_TOLERANCE` after several training steps, where rounding
differences from other summation orders grow).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import Any

import numpy as np

from netkit.model.forms import fast_activation, fast_loss, loss_gradients, textbook_activation
from netkit.model.network import Sequential
from netkit.registry import Registry, default_registry, textbook_twin
from netkit.training.trainer import Trainer

BATCH_SIZES = (1, 7, 32, 128)
DTYPES = (np.float32, np.float64)
LAYOUTS = ("rows-first", "transposed")
TOLERANCE: dict[np.dtype[Any], float] = {np.dtype(np.float32): 1e-5, np.dtype(np.float64): 1e-10}
TRAINING_TOLERANCE: dict[np.dtype[Any], float] = {np.dtype(np.float32): 1e-4, np.dtype(np.float64): 1e-9}


def assert_twins_agree(
    fast: Any,
    textbook: Any,
    what: str,
    tolerance: dict[np.dtype[Any], float] = TOLERANCE,
    dtype: Any = None,
) -> None:
    """``fast`` and ``textbook`` (arrays or numbers) agree to the tolerance for ``dtype`` (default: fast's)."""
    fast, textbook = np.asarray(fast), np.asarray(textbook)
    assert fast.shape == textbook.shape, f"{what}: fast shape {fast.shape}, textbook shape {textbook.shape}"
    precision = np.result_type(fast.dtype if dtype is None else dtype, np.float32)
    limit = tolerance.get(precision, tolerance[np.dtype(np.float64)])
    scale = max(1.0, float(np.max(np.abs(textbook), initial=0.0)))
    error = float(np.max(np.abs(fast.astype(np.float64) - textbook), initial=0.0)) / scale
    assert error <= limit, f"{what}: fast and textbook forms differ by {error:.2e} (tolerance {limit:.0e})"


def laid_out(array: np.ndarray[Any, Any], layout: str) -> np.ndarray[Any, Any]:
    """A copy of a 2-D ``array`` with the same values, rows-first or as the transposed view of (columns, rows)."""
    copy: np.ndarray[Any, Any] = array.copy() if layout == "rows-first" else np.ascontiguousarray(array.T).T
    return copy


def _cases() -> Iterator[tuple[str, np.dtype[Any], str, int]]:
    """(description, dtype, layout, rows) for every combination the checks cover."""
    for dtype in map(np.dtype, DTYPES):
        for layout in LAYOUTS:
            for rows in BATCH_SIZES:
                yield f"{dtype} {layout} batch {rows}", dtype, layout, rows


def check_activation_twin(fast: Any, textbook: Any, rng: np.random.Generator | None = None) -> None:
    """forward, backward, and backward with ``out`` aliased to ``grad``, both forms on the same arrays."""
    rng = rng or np.random.default_rng(0)
    fast_forward, fast_backward = fast_activation(fast)
    book_forward, book_backward = textbook_activation(textbook)
    name = type(fast).__name__
    for case, dtype, layout, rows in _cases():
        z = laid_out((rng.standard_normal((rows, 6)) * 3).astype(dtype), layout)
        grad = laid_out(rng.standard_normal((rows, 6)).astype(dtype), layout)
        expected_a = book_forward(z.copy())
        a = fast_forward(z, np.empty_like(z)).copy()
        assert a.dtype == dtype, f"{name}.forward ({case}) gave {a.dtype}"
        assert_twins_agree(a, expected_a, f"{name}.forward ({case})")
        expected_dz = book_backward(z.copy(), expected_a, grad.copy())
        assert_twins_agree(fast_backward(z, a, grad.copy(), np.empty_like(z)), expected_dz, f"{name}.backward ({case})")
        aliased = grad.copy()
        fast_backward(z, a, aliased, aliased)
        assert_twins_agree(aliased, expected_dz, f"{name}.backward with out=grad ({case})")


def check_loss_twin(fast: Any, textbook: Any, rng: np.random.Generator | None = None) -> None:
    """value, gradient and fused gradient (with and without a scale), both forms on the same arrays."""
    rng = rng or np.random.default_rng(0)
    fast_gradient, fast_fused = fast_loss(fast)
    book_gradient, book_fused = loss_gradients(textbook)
    name = type(fast).__name__
    for case, dtype, layout, rows in _cases():
        logits = rng.standard_normal((rows, 5))
        output = laid_out((np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)).astype(dtype), layout)
        target = laid_out(np.eye(5, dtype=dtype)[rng.integers(0, 5, rows)], layout)
        assert_twins_agree(
            fast.value(output, target), textbook.value(output, target), f"{name}.value ({case})", dtype=dtype
        )
        for fast_method, book_method, what in (
            (fast_gradient, book_gradient, "gradient"),
            (fast_fused, book_fused, "fused"),
        ):
            expected = book_method(output.copy(), target.copy())
            for scale in (1.0, 0.3):
                got = fast_method(output, target, np.empty_like(output), scale)
                assert_twins_agree(got, scale * expected, f"{name}.{what} x {scale} ({case})")


def check_optimizer_twin(fast: Any, textbook: Any, rng: np.random.Generator | None = None, steps: int = 5) -> None:
    """Several steps on the same random gradients leave equal parameters and equal state; state carries over."""
    rng = rng or np.random.default_rng(0)
    name = type(fast).__name__
    for n in (1, 7, 1000):
        assert fast.samples_per_step(n) == textbook.samples_per_step(n), f"{name}.samples_per_step({n}) differs"
    scale = getattr(fast, "gradient_scale", 1.0)  # what the trainer folds into the gradients it gives ``fast``
    for dtype in map(np.dtype, DTYPES):
        start = rng.standard_normal(40).astype(dtype)
        fast_p, book_p = start.copy(), start.copy()
        fast_g, book_g = np.zeros_like(start), np.zeros_like(start)
        fast.bind(fast_p, fast_g)
        textbook.bind(book_p, book_g)
        for step in range(steps):
            book_g[...] = rng.standard_normal(40)
            fast_g[...] = book_g * scale
            fast.step()
            textbook.step()
            assert_twins_agree(fast_p, book_p, f"{name} parameters after step {step + 1} ({dtype})")
        fast_state, book_state = fast.state(), textbook.state()
        assert fast_state.keys() == book_state.keys(), f"{name}.state() keys differ: {sorted(fast_state)}"
        for key in fast_state:
            assert_twins_agree(fast_state[key], book_state[key], f"{name} state {key!r} ({dtype})")
        textbook.load_state(fast_state)  # a file saved by one form resumes in the other
        book_p[...] = fast_p
        book_g *= 0.5
        fast_g[...] = book_g * scale
        fast.step()
        textbook.step()
        assert_twins_agree(fast_p, book_p, f"{name} step after load_state(fast.state()) ({dtype})")


Arrays = dict[str, np.ndarray[Any, Any]]


def _bind(layer: Any, input_size: int, dtype: np.dtype[Any], transposed: bool) -> tuple[Arrays, Arrays]:
    """Build ``layer`` and bind it to fresh arrays, 2-D parameters stored transposed if asked (as Sequential may)."""
    layer.build(input_size)
    parameters: Arrays = {}
    gradients: Arrays = {}
    for name, shape in layer.parameter_shapes().items():
        for store in (parameters, gradients):
            flat = np.zeros(int(np.prod(shape)), dtype=dtype)
            store[name] = flat.reshape(shape[::-1]).T if transposed and len(shape) == 2 else flat.reshape(shape)
    layer.needs_input_gradient = True
    layer.bind(parameters, gradients)
    return parameters, gradients


def check_layer_twin(fast: Any, textbook: Any, rng: np.random.Generator | None = None, input_size: int = 5) -> None:
    """Same initial weights; forward (training and not), parameter and input gradients, in every case."""
    rng = rng or np.random.default_rng(0)
    name = fast.describe()
    for case, dtype, layout, rows in _cases():
        for weights_transposed in (False, True):
            where = f"{case}{', weights stored transposed' if weights_transposed else ''}"
            fast_parameters, fast_gradients = _bind(fast, input_size, dtype, weights_transposed)
            book_parameters, book_gradients = _bind(textbook, input_size, dtype, False)
            fast.initialize(np.random.default_rng(5))
            textbook.initialize(np.random.default_rng(5))
            for key, value in fast_parameters.items():
                assert_twins_agree(value, book_parameters[key], f"{name} initial {key} ({where})")
            x = laid_out(rng.uniform(-1, 1, (rows, input_size)).astype(dtype), layout)
            assert_twins_agree(fast.forward(x, False), textbook.forward(x.copy(), False), f"{name} inference ({where})")
            for pre_activation in (False, True):
                out = fast.forward(x, True)
                assert_twins_agree(out, textbook.forward(x.copy(), True), f"{name} forward ({where})")
                grad = laid_out(rng.standard_normal(out.shape).astype(dtype), layout)
                book_dx = textbook.backward(grad.copy(), pre_activation)
                fast_dx = fast.backward(grad.copy(), pre_activation)
                what = f"{name} backward{' from dL/dz' if pre_activation else ''} ({where})"
                assert_twins_agree(fast_dx, book_dx, f"{what} dL/dx")
                for grad_name in fast_gradients:
                    assert_twins_agree(fast_gradients[grad_name], book_gradients[grad_name], f"{what} dL/d{grad_name}")


def check_training_twin(
    input_size: int,
    layers: Sequence[str | dict[str, Any]],
    loss: str,
    optimizer: str,
    steps: int = 5,
    dtype: type[np.floating[Any]] = np.float64,
    registry: Registry | None = None,
    rng: np.random.Generator | None = None,
) -> None:
    """``steps`` training steps of a whole network, once as built and once from textbook twins only.

    Both start from the same weights and see the same shuffled batches (``Trainer.fit`` on a small random
    data set); afterwards the parameters, the optimiser's state and the gradients must agree.
    """
    registry = registry or default_registry()
    rng = rng or np.random.default_rng(0)
    batch_size = registry.create("optimizers", optimizer).samples_per_step(10**6)
    # ``steps`` batches in one epoch, or (full-batch) one step in each of ``steps`` epochs on 16 rows.
    rows, epochs = (16, steps) if batch_size >= 10**6 else (batch_size * steps, 1)
    probe = Sequential(input_size, layers, loss, registry=registry)
    images = rng.uniform(0, 1, (rows, input_size))
    labels = rng.integers(0, probe.output_size, rows)
    trained = []
    for build_with in (registry, registry.textbook_form()):
        model = Sequential(input_size, layers, loss, np.random.default_rng(1), build_with, dtype)
        trainer = Trainer(model, build_with.create("optimizers", optimizer), np.random.default_rng(2))
        trainer.fit(images, labels, epochs)
        trained.append(trainer)
    fast, book = trained
    what = f"{fast.model} trained {steps} steps with {optimizer} ({np.dtype(dtype)})"

    def agree(fast_flat: Any, book_flat: Any, name: str) -> None:
        # Compared in file order: a fast layer may keep a weight transposed in memory, its twin does not.
        in_order = fast.model.to_file_order(fast_flat) if np.ndim(fast_flat) == 1 else fast_flat
        assert_twins_agree(in_order, book_flat, f"{what}: {name}", TRAINING_TOLERANCE)

    agree(fast.model.parameters, book.model.parameters, "parameters")
    agree(fast.model.gradients, book.model.gradients, "gradients")
    book_state = book.optimizer.state()
    for key, value in fast.optimizer.state().items():
        agree(value, book_state[key], f"optimiser state {key!r}")


CHECKS: dict[str, Callable[..., None]] = {
    "activations": check_activation_twin,
    "losses": check_loss_twin,
    "optimizers": check_optimizer_twin,
    "layers": check_layer_twin,
}


def check_twin(group: str, cls: type, config: dict[str, Any] | None = None, registry: Registry | None = None) -> None:
    """The fast-equals-textbook check for ``cls`` (a class with a ``textbook_twin``), built from ``config``."""
    twin = textbook_twin(cls)
    assert twin is not None, f"{cls.__qualname__} names no textbook_twin"
    config = dict(getattr(cls, "conformance_config", {}) if config is None else config)
    registry = registry or default_registry()
    with registry.active():
        fast = cls.from_config(config)  # type: ignore[attr-defined]
        textbook = twin.from_config(fast.get_config())  # type: ignore[attr-defined]
    CHECKS[group](fast, textbook)
