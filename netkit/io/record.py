"""The plain record between a :class:`ModelFile` and a storage format, and its validation.

Both formats store the same record, so a file converts from one to the other without loss::

    {
        "format": "netkit-model", "format_version": 1, "netkit_version": "0.1.0",
        "config": {...},            # Network.get_config(): plugin specs, JSON values only
        "training": {...},          # the run's options, JSON values only
        "rng_state": {...} | None,  # bit_generator.state, JSON values only (arrays become lists)
        "layers": [{"weight": float32 (in, out), "bias": float32 (out,)}, ...],
        "history": {"iteration_loss": float64 (iterations,), "epochs": [{"epoch": 1, ...}, ...]},
        "optimizer": None | {"config": {"type": ..., ...}, "arrays": {name: array}, "values": {name: JSON}},
    }

:func:`decode` trusts nothing in a record: every problem becomes a one-line :class:`ModelFileError`
(without the path, which the caller adds).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import attrs
import numpy as np

from netkit import __version__
from netkit.errors import ModelFileError, NetkitError
from netkit.io.limits import over_ceiling, parameter_count, planned_layers
from netkit.io.modelfile import FORMAT_NAME, FORMAT_VERSION, ModelFile, restore_generator
from netkit.model.network import Network
from netkit.protocols import Optimizer
from netkit.registry import default_registry
from netkit.training.trainer import EpochRecord, History


def _annotation(field: attrs.Attribute[Any]) -> str:
    # A string under ``from __future__ import annotations``; otherwise a class (int) or a union (float | None).
    kind = field.type
    return kind if isinstance(kind, str) else str(getattr(kind, "__name__", kind))


# Field name -> annotation ("int", "float", "float | None"): how each history column is typed.
EPOCH_FIELDS: dict[str, str] = {field.name: _annotation(field) for field in attrs.fields(EpochRecord)}
# Columns added after format version 1 was first written: files without them still load (as None).
OPTIONAL_EPOCH_FIELDS = frozenset({"learning_rate", "train_accuracy"})
# The optimizer entry's array that holds the last epoch's parameters when the model holds the best epoch.
RESUME_PARAMETERS = "resume_parameters"
# Array dtypes a record may hold: booleans, integers and floats (never objects, strings or records).
ARRAY_KINDS = "biuf"


def one_line(exc: BaseException) -> str:
    """An exception's message on one line (h5py's can span several)."""
    return " ".join(str(exc).split()) or type(exc).__name__


def _numpy_to_builtin(value: Any) -> Any:
    if isinstance(value, np.ndarray | np.generic):
        return value.tolist()
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


def to_json_value(value: Any, what: str) -> Any:
    """``value`` as plain JSON types (numpy numbers and arrays become numbers and lists)."""
    try:
        return json.loads(json.dumps(value, default=_numpy_to_builtin))
    except (TypeError, ValueError, RecursionError) as exc:
        raise ModelFileError(f"{what} must be JSON values: {exc}") from None


def encode(model_file: ModelFile) -> dict[str, Any]:
    """The record of ``model_file``. Layer parameters are the model's own views, not copies."""
    model, history = model_file.model, model_file.history
    if not isinstance(model_file.training, Mapping):
        raise ModelFileError(f"training options must be a mapping, got {type(model_file.training).__name__}")
    if not np.isfinite(model.parameters).all():  # never write what loading would refuse
        raise ModelFileError("the model's parameters contain NaN or infinite values (did training diverge?)")
    rng_state = model_file.rng_state
    return {
        "format": FORMAT_NAME,
        "format_version": FORMAT_VERSION,
        "netkit_version": __version__,
        "config": to_json_value(model.get_config(), "the model config"),
        "training": to_json_value(dict(model_file.training), "training options"),
        "rng_state": None if rng_state is None else to_json_value(rng_state, "rng_state"),
        "layers": [dict(views) for views in model.parameter_views],
        "history": {
            "iteration_loss": np.asarray(history.iteration_loss, dtype=np.float64),
            "epochs": [attrs.asdict(record) for record in history.epochs],
        },
        "optimizer": _encode_optimizer(model_file),
    }


def _encode_optimizer(model_file: ModelFile) -> dict[str, Any] | None:
    if model_file.optimizer is None:
        return None
    registry = model_file.model.registry
    try:
        config = to_json_value(registry.spec_of("optimizers", model_file.optimizer), "the optimizer config")
    except NetkitError as exc:
        raise ModelFileError(f"cannot describe the optimizer: {exc}") from None
    model = model_file.model
    arrays = {
        # State shaped like the parameters is saved in file order, whatever the memory layout of the weights.
        key: model.to_file_order(value) if value.shape == model.parameters.shape else value
        for key, value in model_file.optimizer_state.items()
        if isinstance(value, np.ndarray)
    }
    for key, array in arrays.items():
        if array.dtype.kind not in ARRAY_KINDS:
            raise ModelFileError(f"optimizer state {key!r} is a {array.dtype} array; only numbers can be saved")
    values = {key: value for key, value in model_file.optimizer_state.items() if key not in arrays}
    if model_file.resume_parameters is not None:
        # Resuming needs them, like the optimiser's state, so they sit beside it (and ``--slim`` drops both).
        arrays[RESUME_PARAMETERS] = model.to_file_order(np.asarray(model_file.resume_parameters, model.dtype))
    return {"config": config, "arrays": arrays, "values": to_json_value(values, "optimizer state values")}


def check_header(format_name: object, version: object, kind: str = "record", entry: str = "entry") -> None:
    """Refuse early what is not a netkit model or is newer than this netkit: the rest may not parse."""
    if format_name is None:
        raise ModelFileError(f"not a netkit model: this {kind} has no 'format' {entry}")
    if format_name != FORMAT_NAME:
        raise ModelFileError(f"not a netkit model: this {kind} has format {format_name!r}, not {FORMAT_NAME!r}")
    if isinstance(version, bool) or not isinstance(version, int | np.integer):
        raise ModelFileError(f"its format_version should be a whole number, got {version!r}")
    if version > FORMAT_VERSION:
        raise ModelFileError(
            f"format version {version} is newer than this netkit ({__version__}) can read "
            f"(up to {FORMAT_VERSION}); upgrade netkit"
        )
    if version < 1:
        raise ModelFileError(f"unknown format version {version}")


def expect_mapping(value: Any, what: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise ModelFileError(f"{what} should be a mapping, got {type(value).__name__}")
    return value


def expect_list(value: Any, what: str) -> list[Any] | tuple[Any, ...]:
    if not isinstance(value, list | tuple):
        raise ModelFileError(f"{what} should be a list, got {type(value).__name__}")
    return value


def _array(value: Any, what: str, kinds: str = ARRAY_KINDS) -> np.ndarray[Any, Any]:
    if not isinstance(value, np.ndarray):
        raise ModelFileError(f"{what} should be an array, got {type(value).__name__}")
    if value.dtype.kind not in kinds:
        raise ModelFileError(
            f"{what} has dtype {value.dtype}, expected a {'float' if kinds == 'f' else 'numeric'} type"
        )
    return value


def decode(record: Mapping[str, Any]) -> ModelFile:
    """A validated ModelFile from a record that a reader produced from an untrusted file."""
    check_header(record.get("format"), record.get("format_version"))
    model = _decode_model(
        expect_mapping(record.get("config"), "the model config"), expect_list(record.get("layers"), "layers")
    )
    optimizer, optimizer_state, resume_parameters = _decode_optimizer(record.get("optimizer"), model)
    rng_state = record.get("rng_state")
    if rng_state is not None:
        restore_generator(dict(expect_mapping(rng_state, "rng_state")))
    netkit_version = record.get("netkit_version")
    if not isinstance(netkit_version, str):
        raise ModelFileError(f"netkit_version should be a string, got {netkit_version!r}")
    return ModelFile(
        model=model,
        history=_decode_history(expect_mapping(record.get("history"), "history")),
        optimizer=optimizer,
        optimizer_state=optimizer_state,
        rng_state=None if rng_state is None else dict(rng_state),
        training=dict(expect_mapping(record.get("training", {}), "training options")),
        resume_parameters=resume_parameters,
        format_version=int(record["format_version"]),
        netkit_version=netkit_version,
    )


def _check_parameters(name: str, shapes: Mapping[str, tuple[int, ...]], saved: Any) -> None:
    saved = expect_mapping(saved, f"{name} parameters")
    missing, unexpected = sorted(shapes.keys() - saved.keys()), sorted(saved.keys() - shapes.keys())
    if missing:
        raise ModelFileError(f"{name} lacks its parameter(s) {', '.join(map(repr, missing))}")
    if unexpected:
        raise ModelFileError(f"{name} has unexpected parameter(s) {', '.join(map(repr, unexpected))}")
    for key, shape in shapes.items():
        array = _array(saved[key], f"{name} {key!r}", kinds="f")
        if array.shape != tuple(shape):
            raise ModelFileError(f"{name} {key!r} has shape {array.shape} but its config needs {tuple(shape)}")


def _check_before_allocating(config: Mapping[str, Any], layers: list[Any] | tuple[Any, ...]) -> None:
    """The file's arrays must be exactly what its config describes, and within the ceiling.

    Checked on layers that know their sizes but own no memory yet: a config of a billion units in a small
    file is refused here rather than allocated.
    """
    planned = planned_layers(config, default_registry())
    if planned is None:
        return  # Network.from_config says what is wrong
    if len(layers) != len(planned):
        raise ModelFileError(
            f"the file holds parameters for {len(layers)} layers but its config describes {len(planned)}"
        )
    for index, ((layer, shapes), saved) in enumerate(zip(planned, layers, strict=True)):
        _check_parameters(f"layer {index} ({layer.describe()})", shapes, saved)
    problem = over_ceiling(
        parameter_count(shape for _, shapes in planned for shape in shapes.values()),
        "its model",
        " if you trust the file",
    )
    if problem is not None:
        raise ModelFileError(problem)


def _decode_model(config: Mapping[str, Any], layers: list[Any] | tuple[Any, ...]) -> Network:
    try:
        _check_before_allocating(config, layers)
        model = Network.from_config(config)
    except ModelFileError:
        raise
    except NetkitError as exc:
        raise ModelFileError(f"its model config cannot be built: {exc}") from None
    except (TypeError, ValueError, KeyError, AttributeError) as exc:
        raise ModelFileError(f"its model config is malformed: {exc!r}") from None
    if len(layers) != len(model.layers):
        raise ModelFileError(
            f"the file holds parameters for {len(layers)} layers but its config describes {len(model.layers)}"
        )
    for index, (layer, views, saved) in enumerate(zip(model.layers, model.parameter_views, layers, strict=True)):
        name = f"layer {index} ({layer.describe()})"
        _check_parameters(name, {key: view.shape for key, view in views.items()}, saved)
        for key, view in views.items():
            array = saved[key]
            if not np.isfinite(array).all():
                raise ModelFileError(f"{name} {key!r} contains NaN or infinite values")
            view[...] = array
    return model


def _decode_epoch_value(value: Any, annotation: str) -> Any:
    if annotation == "int":
        if isinstance(value, bool) or not float(value).is_integer():
            raise ValueError(f"expected a whole number, got {value!r}")
        return int(value)
    if annotation == "float | None" and (value is None or value != value):  # NaN marks "not measured"
        return None
    return float(value)


def _decode_history(history: Mapping[str, Any]) -> History:
    losses = _array(history.get("iteration_loss"), "history iteration_loss", kinds="f")
    if losses.ndim != 1:
        raise ModelFileError(f"history iteration_loss should be one-dimensional, got shape {losses.shape}")
    records = []
    for number, saved in enumerate(expect_list(history.get("epochs"), "history epochs"), start=1):
        saved = expect_mapping(saved, f"history epoch record {number}")
        try:
            fields = {
                name: _decode_epoch_value(saved[name], kind)
                for name, kind in EPOCH_FIELDS.items()
                if name in saved or name not in OPTIONAL_EPOCH_FIELDS
            }
        except KeyError as exc:
            raise ModelFileError(f"history epoch record {number} lacks {exc.args[0]!r}") from None
        except (TypeError, ValueError, OverflowError) as exc:
            raise ModelFileError(f"history epoch record {number} is malformed: {exc}") from None
        records.append(EpochRecord(**fields))
    return History(records, [float(value) for value in losses])


def _decode_resume_parameters(arrays: dict[str, Any], model: Network) -> np.ndarray[Any, Any] | None:
    if RESUME_PARAMETERS not in arrays:
        return None
    array = _array(arrays.pop(RESUME_PARAMETERS), "the last epoch's parameters", kinds="f")
    if array.shape != model.parameters.shape:
        raise ModelFileError(
            f"the last epoch's parameters have shape {array.shape} but this model needs {model.parameters.shape}"
        )
    if not np.isfinite(array).all():
        raise ModelFileError("the last epoch's parameters contain NaN or infinite values")
    return np.asarray(model.from_file_order(array.astype(model.dtype)))


def _decode_optimizer(
    saved: Any, model: Network
) -> tuple[Optimizer | None, dict[str, Any], np.ndarray[Any, Any] | None]:
    if saved is None:
        return None, {}, None
    saved = expect_mapping(saved, "optimizer")
    config = expect_mapping(saved.get("config"), "the optimizer config")
    arrays = dict(expect_mapping(saved.get("arrays", {}), "optimizer state arrays"))
    resume_parameters = _decode_resume_parameters(arrays, model)
    state = {**expect_mapping(saved.get("values", {}), "optimizer state values"), **arrays}
    try:
        optimizer: Optimizer = model.registry.create("optimizers", config)
        probe: Optimizer = model.registry.create("optimizers", config)
    except (NetkitError, TypeError, ValueError) as exc:  # plugins' validators raise ValueError
        raise ModelFileError(f"its optimizer cannot be built: {exc}") from None
    if not state:  # a fresh optimiser: nothing to check
        return optimizer, state, resume_parameters
    # What this optimiser's state looks like for this model; the saved one must match it key for key.
    probe.bind(np.zeros_like(model.parameters), np.zeros_like(model.parameters))
    expected = probe.state()
    missing, unexpected = sorted(expected.keys() - state.keys()), sorted(state.keys() - expected.keys())
    kind = config.get("type")
    if missing or unexpected:
        problems = [
            f"{label} {', '.join(map(repr, keys))}"
            for label, keys in (("lacks", missing), ("has unexpected", unexpected))
            if keys
        ]
        raise ModelFileError(f"its {kind} optimizer state {' and '.join(problems)}")
    for key, reference in expected.items():
        if isinstance(reference, np.ndarray):
            array = _array(state[key], f"optimizer state {key!r}")
            if array.shape != reference.shape:
                raise ModelFileError(
                    f"optimizer state {key!r} has shape {array.shape} but this model needs {reference.shape}"
                )
            if array.shape == model.parameters.shape:
                state[key] = model.from_file_order(array)
    try:
        probe.load_state(dict(state))
    except (KeyError, ValueError, TypeError, IndexError, OverflowError) as exc:
        raise ModelFileError(f"its {kind} optimizer state cannot be loaded: {exc!r}") from None
    return optimizer, state, resume_parameters
