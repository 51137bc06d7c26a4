"""Models out of netkit: an ONNX graph (for onnxruntime and every tool that reads ONNX) and plain ``.npz``.

ONNX (``pip install 'netkit-nn[onnx]'``): opset :data:`ONNX_OPSET`; input ``images`` (float32, batch x
inputs, flat rows as netkit takes them), output ``probabilities`` (float32, batch x classes). Each layer
is the operator it declares (:meth:`netkit.model.layer.Layer.onnx_operator`: a dense layer a ``Gemm``, x W
+ b; conv2d a ``Conv``; the poolings ``MaxPool``/``AveragePool``; flatten a ``Flatten``; dropout an
``Identity``) followed by its activation's operator, which the activation declares too
(:class:`netkit.protocols.OnnxExportable`: ``onnx_operator()``, as every built-in does); a model on images
reshapes the rows first. An activation or a layer without an operator is refused by name rather than
exported wrongly.

``.npz``: one array per parameter, named ``dense_1.weight`` and so on (each (inputs, units) as the layer
uses it), and ``config``, the model's config as a JSON string: readable with ``numpy.load`` alone, and
loaded back by :func:`load_npz`.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from netkit.errors import ModelFileError, NetkitError
from netkit.io.atomic import atomic_write
from netkit.model.layer import Flatten, OnnxOperator
from netkit.model.network import Network
from netkit.protocols import OnnxExportable

ONNX_OPSET = 17
CONFIG_KEY = "config"
INPUT_NAME, OUTPUT_NAME = "images", "probabilities"


def to_onnx(model: Network) -> Any:
    """``model`` as an ``onnx.ModelProto`` (checked by ``onnx.checker``)."""
    try:
        import onnx
        from onnx import TensorProto, helper, numpy_helper
    except ImportError:
        raise ModelFileError("ONNX export needs the onnx package: pip install 'netkit-nn[onnx]'") from None
    nodes, weights = [], []
    current = INPUT_NAME
    flat = True  # the graph's input is flat rows; an image-shaped layer gets them reshaped (one Reshape node)
    last = len(model.layers) - 1
    for index, (name, layer, views) in enumerate(
        zip(model.layer_names, model.layers, model.parameter_views, strict=True)
    ):
        form = layer.onnx_operator()
        kind = model.registry.name_of("layers", layer)
        if form is None:
            raise ModelFileError(f"cannot export layer {name} ({kind}) to ONNX: it declares no operator")
        activation = _activation_operator(model, name, layer.activation)
        if isinstance(layer, Flatten) and flat:
            continue  # rows are already flat, in the same order
        if flat and len(model.shapes[index]) > 1:
            shape = np.array([-1, *model.shapes[index]], dtype=np.int64)
            weights.append(numpy_helper.from_array(shape, "input_shape"))
            nodes.append(helper.make_node("Reshape", [current, "input_shape"], ["shaped"], name="reshape_input"))
            current = "shaped"
        flat = len(model.shapes[index + 1]) == 1
        inputs = [current]
        for parameter, axes in form.parameters:
            array = np.asarray(views[parameter], dtype=np.float32)
            array = np.ascontiguousarray(array if axes is None else array.transpose(axes))
            weights.append(numpy_helper.from_array(array, f"{name}.{parameter}"))
            inputs.append(f"{name}.{parameter}")
        output = (
            OUTPUT_NAME
            if index == last and activation is None
            else f"{name}.z"
            if activation is not None
            else f"{name}.a"
        )
        operator = form.operator.lower()
        nodes.append(helper.make_node(form.operator, inputs, [output], name=f"{name}_{operator}", **form.attributes))
        current = output
        if activation is not None:
            current = OUTPUT_NAME if index == last else f"{name}.a"
            node_name = f"{name}_{activation.operator.lower()}"
            nodes.append(
                helper.make_node(activation.operator, [output], [current], name=node_name, **activation.attributes)
            )
    graph = helper.make_graph(
        nodes,
        f"netkit {model!r}",
        [helper.make_tensor_value_info(INPUT_NAME, TensorProto.FLOAT, ["batch", model.input_size])],
        [helper.make_tensor_value_info(OUTPUT_NAME, TensorProto.FLOAT, ["batch", model.output_size])],
        initializer=weights,
    )
    proto = helper.make_model(
        graph, producer_name="netkit", opset_imports=[helper.make_operatorsetid("", ONNX_OPSET)], ir_version=8
    )
    onnx.checker.check_model(proto)
    return proto


def _activation_operator(model: Network, layer_name: str, activation: Any) -> OnnxOperator | None:
    """The ONNX operator of a layer's activation (``None`` for a layer without one), or a one-line refusal."""
    if activation is None:
        return None
    form = activation.onnx_operator() if isinstance(activation, OnnxExportable) else None
    if form is None or form.parameters:  # an activation's operator takes z alone
        kind = model.registry.name_of("activations", activation)
        raise ModelFileError(
            f"cannot export activation {kind!r} of {layer_name} to ONNX: it has no operator "
            "(an activation plugin names one with an onnx_operator() method)"
        )
    return form


def save_onnx(model: Network, path: str | os.PathLike[str]) -> Path:
    """Write :func:`to_onnx` of ``model`` to ``path``, atomically."""
    data = to_onnx(model).SerializeToString()
    target = Path(path)

    def write(temporary: Path) -> None:
        temporary.write_bytes(data)

    _write(target, write)
    return target


def save_npz(model: Network, path: str | os.PathLike[str]) -> Path:
    """Write every parameter and the config (JSON) to the ``.npz`` file ``path``, atomically."""
    arrays: dict[str, Any] = {
        f"{name}.{parameter}": np.ascontiguousarray(view)
        for name, views in zip(model.layer_names, model.parameter_views, strict=True)
        for parameter, view in views.items()
    }
    arrays[CONFIG_KEY] = np.array(json.dumps(model.get_config()))
    target = Path(path)

    def write(temporary: Path) -> None:
        with open(temporary, "wb") as file:  # a file object: np.savez would add .npz to the temporary's name
            np.savez(file, **arrays)

    _write(target, write)
    return target


def load_npz(path: str | os.PathLike[str]) -> Network:
    """The model a :func:`save_npz` file holds; any problem is a one-line :class:`ModelFileError`."""
    source = Path(path)
    try:
        with np.load(source, allow_pickle=False) as stored:
            config = json.loads(str(_member(stored, CONFIG_KEY)))
            model = Network.from_config(config)
            for name, views in zip(model.layer_names, model.parameter_views, strict=True):
                for parameter, view in views.items():
                    array = _member(stored, f"{name}.{parameter}")
                    if array.shape != view.shape:
                        raise ModelFileError(f"{name}.{parameter} has shape {array.shape}, the config {view.shape}")
                    view[...] = array
    except (OSError, ValueError) as exc:  # not a zip, a damaged member, bad JSON
        raise ModelFileError(f"cannot load {source}: {' '.join(str(exc).split())}") from None
    except NetkitError as exc:  # a config netkit cannot build, a missing or misshapen array
        raise ModelFileError(f"cannot load {source}: {exc}") from None
    return model


def _member(stored: Any, key: str) -> np.ndarray[Any, Any]:
    if key not in stored.files:
        raise ModelFileError(f"it lacks {key!r}")
    array: np.ndarray[Any, Any] = stored[key]
    return array


def _write(target: Path, write: Callable[[Path], None]) -> None:
    try:
        atomic_write(target, write)
    except OSError as exc:
        raise ModelFileError(f"cannot save {target}: {' '.join(str(exc).split())}") from None
