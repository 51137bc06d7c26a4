"""Ceilings on sizes that come from outside: model files from strangers, and network sizes typed by hand.

A model file is untrusted input. A file of a few kilobytes can declare a layer of a billion units (its
config), an HDF5 dataset of any shape (storage is allocated lazily, and compression turns kilobytes into
gigabytes), or a pickle entry of any length. Every such size is checked here *before* anything is
allocated for it:

- each layer's parameters as the config describes them must have exactly the shapes of the arrays the file
  actually carries (checked on layers that know their sizes but own no memory), and their count must stay
  under the ceiling ``max_parameters()``;
- the arrays an HDF5 file declares count, dataset by dataset, against a budget of ``ARRAYS_PER_PARAMETER``
  times that ceiling (parameters, optimiser state shaped like them, the history) before one is read; a
  pickle larger than that budget at 8 bytes a value is not read at all.

The ceiling is 50 million parameters (200 MB of float32 weights; about a gigabyte while training with
Adam) unless the environment variable ``NETKIT_MAX_PARAMETERS`` says otherwise.
"""

from __future__ import annotations

import itertools
import math
import os
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from netkit.errors import ConfigError
from netkit.model.assembly import assemble, config_input_shape
from netkit.protocols import Layer
from netkit.registry import Registry

MAX_PARAMETERS_ENV = "NETKIT_MAX_PARAMETERS"
DEFAULT_MAX_PARAMETERS = 50_000_000
# Parameters, up to two optimiser arrays of the same size (Adam's moments), and room for the history.
ARRAYS_PER_PARAMETER = 4


def max_parameters() -> int:
    """The parameter ceiling: ``$NETKIT_MAX_PARAMETERS`` (a whole number, ``_`` allowed) or the default."""
    text = os.environ.get(MAX_PARAMETERS_ENV, "").strip()
    if not text:
        return DEFAULT_MAX_PARAMETERS
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise ConfigError(f"{MAX_PARAMETERS_ENV}={text!r} should be a positive whole number of parameters")
    return value


def over_ceiling(count: int, what: str, advice: str = "") -> str | None:
    """Why ``count`` parameters are refused, or ``None`` when they are within the ceiling."""
    ceiling = max_parameters()
    if count <= ceiling:
        return None
    return (
        f"{what} has {count:,} parameters, more than netkit's ceiling of {ceiling:,}; "
        f"set {MAX_PARAMETERS_ENV} to raise it{advice}"
    )


def element_budget() -> int:
    """How many array elements one model file may make a reader allocate, all arrays together."""
    return ARRAYS_PER_PARAMETER * max_parameters()


def planned_layers(
    config: Mapping[str, Any], registry: Registry
) -> list[tuple[Layer, dict[str, tuple[int, ...]]]] | None:
    """Each layer ``Sequential.from_config(config)`` would build, with its parameter shapes, unallocated.

    Layers are built (which only records sizes), never bound. ``None`` when the config is too malformed to
    tell: building the model then reports what is wrong with it.
    """
    layers = config.get("layers")
    try:
        input_shape = config_input_shape(config)
    except ConfigError:
        return None
    if not isinstance(layers, list | tuple) or not all(isinstance(spec, str | Mapping) for spec in layers):
        return None
    built, _ = assemble(input_shape, [registry.create("layers", spec) for spec in layers])
    return [(layer, dict(layer.parameter_shapes())) for layer in built]


def parameter_count(shapes: Iterable[tuple[int, ...]]) -> int:
    """The number of values in arrays of these shapes (exact: Python integers never overflow)."""
    return sum(math.prod(shape) for shape in shapes)


def physical_memory() -> int | None:
    """This machine's memory in bytes, where the system says (POSIX); else ``None``."""
    try:
        return int(os.sysconf("SC_PAGE_SIZE")) * int(os.sysconf("SC_PHYS_PAGES"))
    except (AttributeError, ValueError, OSError):
        return None


def dense_parameter_count(sizes: Sequence[int]) -> int:
    """Weights and biases of dense layers from ``sizes[0]`` inputs through each following size."""
    return sum(inputs * units + units for inputs, units in itertools.pairwise(sizes))


def training_size_problem(sizes: Sequence[int]) -> str | None:
    """Why a dense network of ``sizes`` cannot be trained here (too big for memory or the ceiling), or None.

    Training needs at least the float32 parameters and their gradients: a lower bound, so nothing that fits
    is refused.
    """
    count = dense_parameter_count(sizes)
    shape = "-".join(map(str, sizes))
    needed = 2 * 4 * count
    memory = physical_memory()
    if memory is not None and needed > memory:
        return (
            f"a {shape} network has {count:,} parameters and needs at least {needed / 2**30:,.1f} GiB to train; "
            f"this machine has {memory / 2**30:,.1f} GiB"
        )
    return over_ceiling(count, f"a {shape} network")
