"""The playground's JSON API (``netkit serve --train DIR``): runs steered from the page, saved only under DIR."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from netkit.data import Dataset
from netkit.io import load_model
from netkit.pretrained import pretrained_model_path
from netkit.web.inspection import ModelView, ScoredTestSet
from netkit.web.playground import LIMITS, Playground
from netkit.web.routes import App

from .web_helpers import post_json, request, served

Address = tuple[str, int]
SMALL_RUN = {"name": "small", "layers": "8", "train_rows": 1000, "epochs": 2, "optimizer": "mini-batch",
             "learning_rate": 0.5, "batch_size": 50}  # fmt: skip


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    root = tmp_path / "runs"
    root.mkdir()
    return root


@pytest.fixture
def playground(folder: Path, mnist: Dataset) -> Playground:
    return Playground(folder, mnist)


@pytest.fixture
def address(playground: Playground, mnist: Dataset) -> Iterator[Address]:
    shipped = load_model(pretrained_model_path())
    app = App(view=ModelView(shipped, "shipped", ScoredTestSet(shipped, mnist, "mnist")), playground=playground)
    with served(app) as where:
        yield where
    playground.close()


def _status(address: Address) -> dict[str, Any]:
    code, status = request(address, "GET", "/api/playground/status?since=0")
    assert code == 200, status
    return status


def _wait(address: Address, done: Callable[[dict[str, Any]], bool], seconds: float = 20) -> dict[str, Any]:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        status = _status(address)
        if done(status):
            return status
        time.sleep(0.02)
    raise AssertionError(f"still waiting: {status}")


def _held(status: dict[str, Any]) -> bool:
    return bool(status["controls"]["held"])


def _start(address: Address, **choices: Any) -> dict[str, Any]:
    code, reply = post_json(address, "/api/playground/start", {**SMALL_RUN, **choices})
    assert code == 200, reply
    return reply


def test_a_paused_run_steps_one_batch_at_a_time(address: Address) -> None:
    _start(address, paused=True)
    assert _wait(address, _held)["progress"]["iteration_loss"] == []
    for batches in (1, 2, 3):
        assert post_json(address, "/api/playground/step", {})[0] == 200
        status = _wait(address, lambda s, n=batches: _held(s) and len(s["progress"]["iteration_loss"]) == n)
        assert status["job"]["state"] == "paused"
    time.sleep(0.2)  # held, not running on
    assert len(_status(address)["progress"]["iteration_loss"]) == 3


def test_pause_holds_and_resume_runs_to_the_end(address: Address, folder: Path) -> None:
    _start(address, delay_ms=5)
    _wait(address, lambda s: len(s["progress"]["iteration_loss"]) >= 2)
    post_json(address, "/api/playground/pause", {})
    held = len(_wait(address, _held)["progress"]["iteration_loss"])
    time.sleep(0.2)
    assert len(_status(address)["progress"]["iteration_loss"]) == held
    post_json(address, "/api/playground/settings", {"delay_ms": 0})
    post_json(address, "/api/playground/resume", {})
    status = _wait(address, lambda s: s["job"]["state"] == "done")
    assert status["job"]["saved"] and [e["epoch"] for e in status["progress"]["epochs"]] == [1, 2]
    saved = load_model(folder / "small.h5")
    assert len(saved.history.epochs) == 2 and saved.training["train_rows"] == 1000


def test_learning_rate_steered_while_paused_and_while_running_is_used_and_saved(address: Address, folder: Path) -> None:
    _start(address, paused=True)
    _wait(address, _held)
    assert post_json(address, "/api/playground/settings", {"learning_rate": 0.05})[0] == 200
    assert _wait(address, lambda s: s["controls"]["learning_rate"] == 0.05)["controls"]["steered"]
    post_json(address, "/api/playground/settings", {"delay_ms": 20})
    post_json(address, "/api/playground/resume", {})
    _wait(address, lambda s: len(s["progress"]["iteration_loss"]) >= 3)
    post_json(address, "/api/playground/settings", {"learning_rate": 0.2})
    _wait(address, lambda s: s["controls"]["learning_rate"] == 0.2)
    code, stopped = post_json(address, "/api/playground/stop", {})
    assert code == 200 and stopped["job"]["state"] == "stopped" and stopped["job"]["saved"]
    saved = load_model(folder / "small.h5")
    assert saved.optimizer is not None and saved.optimizer.learning_rate == 0.2
    assert [rate for _, rate in saved.training["steered_rates"]] == [0.05, 0.2]


def test_a_second_start_and_a_finetune_while_a_run_trains_are_409(address: Address) -> None:
    _start(address, paused=True)
    code, reply = post_json(address, "/api/playground/start", {**SMALL_RUN, "name": "other"})
    assert code == 409 and "one job at a time" in reply["error"]
    assert post_json(address, "/api/playground/finetune", {"set": "mine"})[0] == 409
    post_json(address, "/api/playground/stop", {})
    assert post_json(address, "/api/playground/start", {**SMALL_RUN, "name": "other", "epochs": 1})[0] == 200


def test_stopped_mid_epoch_the_file_loads_and_the_folder_holds_only_it(address: Address, folder: Path) -> None:
    _start(address, delay_ms=10)
    _wait(address, lambda s: len(s["progress"]["iteration_loss"]) >= 3)
    post_json(address, "/api/playground/stop", {})
    saved = load_model(folder / "small.h5")
    assert len(saved.history.epochs) == 0 and len(saved.history.iteration_loss) >= 3
    assert sorted(path.name for path in folder.iterdir()) == ["small.h5"]


def test_an_existing_run_file_is_kept_unless_overwrite(address: Address, folder: Path) -> None:
    (folder / "small.h5").write_bytes(b"keep me")
    code, reply = post_json(address, "/api/playground/start", SMALL_RUN)
    assert code == 409 and "exists" in reply["error"]
    assert (folder / "small.h5").read_bytes() == b"keep me"


@pytest.mark.parametrize("name", ["../escape", "/tmp/escape", "a/b", "..", ".hidden", "", "x" * 65, 7])
def test_names_that_could_leave_the_folder_are_refused(address: Address, folder: Path, name: Any) -> None:
    code, reply = post_json(address, "/api/playground/start", {**SMALL_RUN, "name": name})
    assert code == 400 and '"name"' in reply["error"]
    code, reply = post_json(address, "/api/playground/personal/add", {"set": name, "digit": 1, "pixels": _one()})
    assert code == 400 and '"set"' in reply["error"]
    assert list(folder.iterdir()) == [] and not (folder.parent / "escape").exists()


def test_a_symlink_in_the_folder_does_not_lead_out_of_it(address: Address, folder: Path, tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (folder / "link").symlink_to(outside)
    code, reply = post_json(address, "/api/playground/personal/add", {"set": "link", "digit": 1, "pixels": _one()})
    assert code == 400 and "outside" in reply["error"]
    assert list(outside.iterdir()) == []


@pytest.mark.parametrize(
    ("choices", "message"),
    [
        ({"layers": "1000"}, f"1..{LIMITS['units']} units"),
        ({"layers": "8,8,8,8,8"}, f"at most {LIMITS['hidden_layers']} hidden layers"),
        ({"layers": "8,x"}, "widths such as"),
        ({"epochs": 99}, '"epochs" must be 1..'),
        ({"train_rows": 10}, '"train_rows" must be 100..'),
        ({"learning_rate": -1}, '"learning_rate" must be above 0'),
        ({"batch_size": 0}, '"batch_size" must be 1..'),
        ({"optimizer": "nope"}, "unknown optimizer"),
        ({"augment": "nope"}, "nope"),
        ({"layer_specs": ["conv2d:filters=64,kernel=3", "dense:units=256"]}, "parameters"),
        ({"activation": "sigmoid", "optimizer": "full-batch", "batch_size": 32}, "batch size"),
    ],
)
def test_choices_beyond_the_limits_are_400(address: Address, folder: Path, choices: Any, message: str) -> None:
    code, reply = post_json(address, "/api/playground/start", {**SMALL_RUN, **choices})
    assert code == 400 and message in reply["error"], reply
    assert _status(address)["job"] is None and list(folder.iterdir()) == []


def test_controls_without_a_run_or_out_of_turn_are_409(address: Address) -> None:
    for action in ("pause", "resume", "step", "stop", "settings"):
        assert post_json(address, f"/api/playground/{action}", {})[0] == 409
    _start(address, delay_ms=20)
    code, reply = post_json(address, "/api/playground/step", {})
    assert code == 409 and "pause the run" in reply["error"]
    assert post_json(address, "/api/playground/settings", {"learning_rate": "fast"})[0] == 400


def test_posts_must_be_same_origin_json_and_paths_must_exist(address: Address) -> None:
    body = b'{"name": "x"}'
    plain = request(address, "POST", "/api/playground/start", body, {"Content-Type": "text/plain"})
    assert plain[0] == 415
    foreign = {"Content-Type": "application/json", "Origin": "http://evil.example"}
    assert request(address, "POST", "/api/playground/start", body, foreign)[0] == 403
    assert post_json(address, "/api/playground/launch", {})[0] == 404
    assert request(address, "GET", "/api/playground/launch")[0] == 404
    assert _status(address)["job"] is None


def test_without_train_dir_there_is_no_playground(mnist: Dataset) -> None:
    shipped = load_model(pretrained_model_path())
    with served(App(view=ModelView(shipped, "shipped"))) as where:
        code, reply = post_json(where, "/api/playground/start", SMALL_RUN)
        assert code == 404 and "--train" in reply["error"]
        assert request(where, "GET", "/api/playground/status")[0] == 404


def test_the_time_limit_stops_a_run_and_keeps_what_it_learned(folder: Path, mnist: Dataset) -> None:
    playground = Playground(folder, mnist, seconds_limit=0.05)
    shipped = load_model(pretrained_model_path())
    with served(App(view=ModelView(shipped, "shipped"), playground=playground)) as where:
        _start(where, train_rows=20_000, epochs=20)
        status = _wait(where, lambda s: s["job"]["state"] == "stopped")
        assert "time limit" in status["progress"]["error"]
    assert load_model(folder / "small.h5").history.iteration_loss


def _one() -> list[list[float]]:
    pixels = np.zeros((28, 28))
    pixels[4:24, 13:15] = 1.0
    return pixels.tolist()
