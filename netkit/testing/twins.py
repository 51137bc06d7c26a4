"""Fast equals textbook: proof that a fast plugin computes what its readable twin computes.

Part of :mod:`netkit.testing` (import them from there). A built-in plugin's fast form is a subclass of its
textbook class (:mod:`netkit.model.fast`); :func:`check_twin` builds both from the same config and holds the
fast methods to the textbook ones; netkit runs it on every registered plugin that has a fast form. Each
check covers batch sizes :data:`BATCH_SIZES`, rows-first and transposed (column-major) arrays, float32 and
float64, and ``out`` aliased to the incoming gradient; :func:`check_training_twin` trains whole networks
both ways for several steps.

Agreement is measured as max|fast - textbook| / max(1, max|textbook|), which must stay below
:data:`TOLERANCE` for the dtype (:data:`TRAINING_TOLERANCE` after several training steps, where rounding
differences from other summation orders grow).
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import numpy as np

from netkit.model.fast import FastActivation, FastLayer, activation_kernels, loss_gradient_kernel
from netkit.model.layer import Layer, Shape
from netkit.model.network import Network
from netkit.registry import Registry, default_registry, textbook_twin
from netkit.training.trainer import Trainer

BATCH_SIZES = (1, 7, 32, 128)
DTYPES = (np.float32, np.float64)
LAYOUTS = ("rows-first", "transposed")
TOLERANCE: dict[np.dtype[Any], float] = {np.dtype(np.float32): 1e-5, np.dtype(np.float64): 1e-10}
FUSED_TOLERANCE: dict[np.dtype[Any], float] = {np.dtype(np.float32): 1e-4, np.dtype(np.float64): 1e-5}
# After several steps: rounding from other summation orders grows, and a textbook network reaches dL/dz
# through the chain rule, whose loss gradient carries cross-entropy's 1e-7 guard against log(0), where a fast
# network takes the fused (a - y) / n.
TRAINING_TOLERANCE: dict[np.dtype[Any], float] = {np.dtype(np.float32): 1e-4, np.dtype(np.float64): 1e-6}


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


def check_activation_twin(fast: FastActivation, textbook: Any, rng: np.random.Generator | None = None) -> None:
    """forward_into and backward_into (also with ``out`` aliased to ``grad``) against the textbook methods."""
    rng = rng or np.random.default_rng(0)
    fast_forward, fast_backward = activation_kernels(fast)
    name = type(fast).__name__
    for case, dtype, layout, rows in _cases():
        z = laid_out((rng.standard_normal((rows, 6)) * 3).astype(dtype), layout)
        grad = laid_out(rng.standard_normal((rows, 6)).astype(dtype), layout)
        expected_a = textbook.forward(z.copy())
        a = fast_forward(z, np.empty_like(z)).copy()
        assert a.dtype == dtype, f"{name}.forward_into ({case}) gave {a.dtype}"
        assert_twins_agree(a, expected_a, f"{name}.forward ({case})")
        expected_dz = textbook.backward(z.copy(), expected_a, grad.copy())
        assert_twins_agree(fast_backward(z, a, grad.copy(), np.empty_like(z)), expected_dz, f"{name}.backward ({case})")
        aliased = grad.copy()
        fast_backward(z, a, aliased, aliased)
        assert_twins_agree(aliased, expected_dz, f"{name}.backward with out=grad ({case})")
        _check_inference_forms(fast, z, expected_a, f"{name}.forward ({case})")


def _check_inference_forms(fast: FastActivation, z: Any, expected: Any, what: str) -> None:
    """The forms only inference uses: from -z (into -z's own buffer too), and for z within a bound (a bound
    that holds, and one too large for the form, where it must fall back on its guarded form)."""
    if fast.from_negated:
        assert_twins_agree(fast.forward_from_negated_into(-z, np.empty_like(z)), expected, f"{what} from -z")
        negated = -z
        assert_twins_agree(fast.forward_from_negated_into(negated, negated), expected, f"{what} from -z, in place")
    if fast.bounded_form:
        bound = float(np.max(np.abs(z)))
        for given in (bound, bound + 1000.0):
            result = fast.forward_bounded_into(z, np.empty_like(z), given)
            assert_twins_agree(result, expected, f"{what} for |z| <= {given:.3g}")


def check_loss_twin(fast: Any, textbook: Any, rng: np.random.Generator | None = None) -> None:
    """value and gradient against the textbook methods; the fused gradient against the chain rule through
    the fused activation's textbook backward."""
    rng = rng or np.random.default_rng(0)
    fast_gradient = loss_gradient_kernel(fast)
    name = type(fast).__name__
    fused_activation = None
    if fast.fused_activation is not None:
        fused_activation = default_registry().create("activations", fast.fused_activation)
    for case, dtype, layout, rows in _cases():
        logits = rng.standard_normal((rows, 5))
        output = laid_out((np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)).astype(dtype), layout)
        target = laid_out(np.eye(5, dtype=dtype)[rng.integers(0, 5, rows)], layout)
        assert_twins_agree(
            fast.value(output, target), textbook.value(output, target), f"{name}.value ({case})", dtype=dtype
        )
        expected = textbook.gradient(output.copy(), target.copy())
        assert_twins_agree(fast_gradient(output, target, np.empty_like(output)), expected, f"{name}.gradient ({case})")
        if fused_activation is not None:
            # Where the fused gradient applies, the output came from that activation: z behind it is the log.
            z = np.log(output) if fast.fused_activation == "softmax" else output.copy()
            chained = fused_activation.backward(z, output.copy(), expected)
            fused = fast.fused_gradient_into(output, target, np.empty_like(output))
            # The textbook gradient carries the loss's guard against log(0) (cross-entropy's 1e-7), which the
            # fused form need not: they agree to that guard's size, not to rounding.
            what = f"{name}.fused gradient after {fast.fused_activation} ({case})"
            assert_twins_agree(fused, chained, what, FUSED_TOLERANCE)


def check_optimizer_twin(fast: Any, textbook: Any, rng: np.random.Generator | None = None, steps: int = 5) -> None:
    """Several steps on the same random gradients leave equal parameters and equal state; state carries over."""
    rng = rng or np.random.default_rng(0)
    name = type(fast).__name__
    for n in (1, 7, 1000):
        assert fast.samples_per_step(n) == textbook.samples_per_step(n), f"{name}.samples_per_step({n}) differs"
    for dtype in map(np.dtype, DTYPES):
        start = rng.standard_normal(40).astype(dtype)
        fast_p, book_p = start.copy(), start.copy()
        fast_g, book_g = np.zeros_like(start), np.zeros_like(start)
        fast.bind(fast_p, fast_g)
        textbook.bind(book_p, book_g)
        for step in range(steps):
            book_g[...] = rng.standard_normal(40)
            fast_g[...] = book_g
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
        fast_g[...] = book_g
        fast.step()
        textbook.step()
        assert_twins_agree(fast_p, book_p, f"{name} step after load_state(fast.state()) ({dtype})")


Arrays = dict[str, np.ndarray[Any, Any]]


def _bind(layer: Layer, input_shape: Shape, dtype: np.dtype[Any], transposed: frozenset[str]) -> tuple[Arrays, Arrays]:
    """Build ``layer`` and bind it to fresh arrays, the ``transposed`` 2-D ones stored column-major (as a
    network may store a fast layer's)."""
    layer.build(input_shape)
    parameters: Arrays = {}
    gradients: Arrays = {}
    for name, shape in layer.parameter_shapes().items():
        for store in (parameters, gradients):
            flat = np.zeros(math.prod(shape), dtype=dtype)
            store[name] = flat.reshape(shape[::-1]).T if name in transposed else flat.reshape(shape)
    layer.bind(parameters, gradients)
    return parameters, gradients


def check_layer_twin(
    fast: FastLayer, textbook: Layer, rng: np.random.Generator | None = None, input_shape: Shape | None = None
) -> None:
    """Same initial parameters; forward (training and not), parameter and input gradients, in every case."""
    rng = rng or np.random.default_rng(0)
    input_shape = input_shape or textbook.example_input_shape
    name = fast.describe()
    fast.build(input_shape)
    layouts = [frozenset(), fast.transposed_parameters()]
    two_dimensional = [key for key, shape in fast.parameter_shapes().items() if len(shape) == 2]
    layouts.append(frozenset(two_dimensional))  # the layout it would get if it asked for all of them
    for case, dtype, layout, rows in _cases():
        if layout != "rows-first" and len(input_shape) != 1:
            continue  # only flat features arrive column-major
        for transposed in dict.fromkeys(layouts):
            where = f"{case}{', weights stored transposed' if transposed else ''}"
            fast_parameters, fast_gradients = _bind(fast, input_shape, dtype, transposed)
            book_parameters, book_gradients = _bind(textbook, input_shape, dtype, frozenset())
            fast.initialize(np.random.default_rng(5))
            textbook.initialize(np.random.default_rng(5))
            for key, value in fast_parameters.items():
                assert_twins_agree(value, book_parameters[key], f"{name} initial {key} ({where})")
            x = rng.uniform(-1, 1, (rows, *input_shape)).astype(dtype)
            x = laid_out(x, layout) if x.ndim == 2 else x
            assert_twins_agree(
                fast.fast_forward(x, False), textbook.forward(x.copy(), False), f"{name} inference ({where})"
            )
            for generator in (fast, textbook):
                if generator.random:
                    generator.rng = np.random.default_rng(11)
            out = fast.fast_forward(x, True)
            expected = textbook.forward(x.copy(), True)
            assert out.dtype == dtype, f"{name} forward ({where}) gave {out.dtype}"
            assert_twins_agree(out, expected, f"{name} forward ({where})")
            grad = rng.standard_normal(out.shape).astype(dtype)
            grad = laid_out(grad, layout) if grad.ndim == 2 else grad
            book_dx = textbook.backward(grad.copy())
            fast_dx = fast.fast_backward(grad.copy(), False, True)
            assert_twins_agree(fast_dx, book_dx, f"{name} backward ({where}) dL/dx")
            for grad_name in fast_gradients:
                assert_twins_agree(
                    fast_gradients[grad_name], book_gradients[grad_name], f"{name} backward ({where}) dL/d{grad_name}"
                )


def check_training_twin(
    input_shape: int | Shape,
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
    probe = Network(input_shape, layers, loss, registry=registry)
    images = rng.uniform(0, 1, (rows, *probe.input_shape))
    labels = rng.integers(0, probe.output_size, rows)
    trained = []
    for build_with in (registry, registry.textbook_form()):
        model = Network(input_shape, layers, loss, np.random.default_rng(1), build_with, dtype)
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


def check_inference_twin(
    input_shape: int | Shape,
    layers: Sequence[str | dict[str, Any]],
    rows: Sequence[int] = (1, 7, 1_024, 2_500),
    registry: Registry | None = None,
) -> None:
    """``predict_proba`` of a network as built against the same network of textbook twins, for several row
    counts (one chunk, several, a last one shorter), with the weights as initialised, then scaled up 30 times
    in place (saturated units; outputs large enough to need every guard), which the next call must see."""
    registry = registry or default_registry()
    rng = np.random.default_rng(0)
    fast, book = (
        Network(input_shape, layers, "mse", np.random.default_rng(1), build_with)
        for build_with in (registry, registry.textbook_form())
    )
    for scale in (1.0, 30.0):
        for model in (fast, book):
            model.parameters *= scale
        for count in rows:
            x = rng.uniform(0, 1, (count, *fast.input_shape)).astype(np.float32)
            with warnings.catch_warnings():
                warnings.simplefilter("error")  # an overflow inside is a fault, not a warning to show
                got = fast.predict_proba(x)
            assert_twins_agree(got, book.predict_proba(x), f"{fast} predicting {count} rows, weights x{scale:g}")


CHECKS: dict[str, Callable[..., None]] = {
    "activations": check_activation_twin,
    "losses": check_loss_twin,
    "optimizers": check_optimizer_twin,
    "layers": check_layer_twin,
}


def check_twin(group: str, cls: type, config: dict[str, Any] | None = None, registry: Registry | None = None) -> None:
    """The fast-equals-textbook check for ``cls`` (a fast form), built from ``config`` (default: the class's
    ``conformance_config``)."""
    twin = textbook_twin(cls)
    assert twin is not None, f"{cls.__qualname__} is not a fast form of a textbook class"
    if config is None:
        declared = (vars(base)["conformance_config"] for base in cls.__mro__ if "conformance_config" in vars(base))
        config = dict(next(declared, {}))
    registry = registry or default_registry()
    with registry.active():
        fast = cls.from_config(config)  # type: ignore[attr-defined]
        textbook = twin.from_config(fast.get_config())  # type: ignore[attr-defined]
    CHECKS[group](fast, textbook)
