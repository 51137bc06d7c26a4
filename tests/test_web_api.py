"""The JSON API of ``netkit serve``, through the standard-library client: answers, agreement, every refusal."""

from __future__ import annotations

import base64
import http.client
import io
import json
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from click.testing import CliRunner
from PIL import Image

from netkit.cli.main import cli
from netkit.data import Dataset
from netkit.data.images import to_mnist
from netkit.io import ModelFile, load_model
from netkit.model.evaluation import evaluate
from netkit.pretrained import pretrained_model_path
from netkit.web.inputs import MAX_BODY_BYTES
from netkit.web.inspection import ModelView, ScoredTestSet
from netkit.web.live import TrainingProgress
from netkit.web.routes import App

from .web_helpers import png_data_url, post_json, request, served, stroke_image

Address = tuple[str, int]


@pytest.fixture(scope="module")
def shipped() -> ModelFile:
    return load_model(pretrained_model_path())


@pytest.fixture(scope="module")
def address(shipped: ModelFile, mnist: Dataset) -> Iterator[Address]:
    view = ModelView(shipped, "shipped", ScoredTestSet(shipped, mnist, "mnist"))
    with served(App(view=view)) as found:
        yield found


def _pixels(row: np.ndarray[Any, Any]) -> list[list[float]]:
    result: list[list[float]] = row.reshape(28, 28).astype(np.float64).tolist()
    return result


def test_model_describes_architecture_parameters_history_and_format(address: Address, shipped: ModelFile) -> None:
    status, body = request(address, "GET", "/api/model")
    assert status == 200
    assert body["architecture"] == repr(shipped.model) and body["sizes"] == [784, 16, 16, 10]
    assert body["parameter_count"] == shipped.model.parameter_count
    assert len(body["history"]["epochs"]) == len(shipped.history.epochs)
    assert body["format"] == "netkit-model" and body["format_version"] == shipped.format_version
    assert body["mode"] == "draw" and body["test"]["n"] == 10_000


def test_test_digits_posted_as_pixels_get_the_answers_of_evaluate(
    address: Address, shipped: ModelFile, mnist: Dataset
) -> None:
    rows = mnist.test_images[::10]  # 1,000 digits from across the test set
    batch = shipped.model.predict_proba(rows)  # what evaluate computes, on the whole batch at once
    for row, in_batch in zip(rows, batch, strict=True):
        status, body = post_json(address, "/api/predict", {"pixels": _pixels(row), "preprocess": False})
        assert status == 200
        assert body["digit"] == int(np.argmax(in_batch))
        # Bit for bit what the model gives for that one row; a batch's BLAS path may round the last bit apart.
        np.testing.assert_array_equal(np.float32(body["probabilities"]), shipped.model.predict_proba(row)[0])
        np.testing.assert_allclose(body["probabilities"], in_batch, rtol=1e-5, atol=1e-7)


def test_the_confusion_matrix_is_the_one_evaluate_computes(
    address: Address, shipped: ModelFile, mnist: Dataset
) -> None:
    scores = evaluate(shipped.model, mnist.test_images, mnist.test_labels)
    status, body = request(address, "GET", "/api/confusion")
    assert status == 200 and body["matrix"] == scores.confusion.tolist()
    assert body["accuracy"] == scores.accuracy


def test_a_drawn_image_goes_through_the_same_preprocessing_as_netkit_predict(address: Address, tmp_path: Path) -> None:
    image = stroke_image()
    path = tmp_path / "stroke.png"
    image.save(path)
    result = CliRunner().invoke(cli, ["predict", str(path), "--json"])
    assert result.exit_code == 0, result.output
    from_cli = json.loads(result.output)[0]
    status, body = post_json(address, "/api/predict", {"image": png_data_url(image)})
    assert status == 200
    assert body["digit"] == from_cli["digit"] == 1
    np.testing.assert_allclose(body["probabilities"], from_cli["probabilities"], rtol=0, atol=1e-7)
    np.testing.assert_allclose(np.ravel(body["input"]), to_mnist(image), atol=1e-4)
    np.testing.assert_allclose(np.ravel(body["downsample"]), to_mnist(image, center=False), atol=1e-4)


def test_preprocessing_off_sends_the_plain_downsample(address: Address) -> None:
    image = stroke_image()
    status, body = post_json(address, "/api/predict", {"image": png_data_url(image), "preprocess": False})
    assert status == 200
    assert body["input"] == body["downsample"]
    np.testing.assert_allclose(np.ravel(body["input"]), to_mnist(image, center=False), atol=1e-4)


def test_activations_and_weighted_inputs_cover_every_layer(
    address: Address, shipped: ModelFile, mnist: Dataset
) -> None:
    row = mnist.test_images[7]
    status, body = post_json(address, "/api/predict", {"pixels": _pixels(row), "preprocess": False})
    assert status == 200
    assert [len(layer) for layer in body["activations"]] == [16, 16, 10]
    expected = shipped.model.activations(row)
    for got, want in zip(body["activations"], expected, strict=True):
        np.testing.assert_allclose(got, want[0], atol=1e-5)
    first = shipped.model.layers[0]
    z = row @ first.parameters["weight"] + first.parameters["bias"]
    np.testing.assert_allclose(body["weighted_inputs"][0], z, atol=1e-4)
    sigmoid = 1 / (1 + np.exp(-np.asarray(body["weighted_inputs"][0])))
    np.testing.assert_allclose(sigmoid, body["activations"][0], atol=1e-4)


def test_weights_of_a_first_layer_unit(address: Address, shipped: ModelFile) -> None:
    status, body = request(address, "GET", "/api/weights?layer=0&unit=3")
    assert status == 200 and body["shape"] == [28, 28]
    np.testing.assert_array_equal(np.float32(body["weights"]), shipped.model.layers[0].parameters["weight"][:, 3])
    status, body = request(address, "GET", "/api/weights?layer=1&unit=0")
    assert status == 200 and body["shape"] == [16]


def test_mistakes_are_wrong_answers_most_confident_first(address: Address, shipped: ModelFile, mnist: Dataset) -> None:
    scores = evaluate(shipped.model, mnist.test_images, mnist.test_labels)
    status, body = request(address, "GET", "/api/mistakes?limit=25")
    assert status == 200
    assert body["count"] == scores.n - int(np.trace(scores.confusion))
    examples = body["examples"]
    assert len(examples) == 25 and all(e["truth"] != e["guess"] for e in examples)
    assert all(e["truth"] == int(mnist.test_labels[e["index"]]) for e in examples)
    confidences = [e["confidence"] for e in examples]
    assert confidences == sorted(confidences, reverse=True)
    picture = Image.open(io.BytesIO(base64.b64decode(examples[0]["image"].split(",", 1)[1])))
    assert picture.size == (28, 28)


def test_a_confusion_cell_lists_its_digits(address: Address, shipped: ModelFile, mnist: Dataset) -> None:
    scores = evaluate(shipped.model, mnist.test_images, mnist.test_labels)
    status, body = request(address, "GET", "/api/confusion?truth=4&guess=9&limit=500")
    assert status == 200 and body["count"] == scores.confusion[4, 9] == len(body["examples"])
    assert all(e["truth"] == 4 and e["guess"] == 9 for e in body["examples"])


def test_a_test_digit_comes_back_exactly(address: Address, mnist: Dataset) -> None:
    status, body = request(address, "GET", "/api/test-digit?index=12")
    assert status == 200 and body["label"] == int(mnist.test_labels[12])
    np.testing.assert_array_equal(np.float32(body["pixels"]).ravel(), mnist.test_images[12])


def test_two_requests_at_once_each_get_their_own_answer(address: Address, mnist: Dataset) -> None:
    # Two different digits, posted by two threads released together, many times over: the model's shared
    # buffers must never mix one request's numbers into the other's reply.
    first, second = mnist.test_images[0], mnist.test_images[1]
    _, alone_first = post_json(address, "/api/predict", {"pixels": _pixels(first), "preprocess": False})
    _, alone_second = post_json(address, "/api/predict", {"pixels": _pixels(second), "preprocess": False})
    assert alone_first["digit"] != alone_second["digit"]
    barrier = threading.Barrier(2)
    replies: dict[int, list[dict[str, Any]]] = {0: [], 1: []}

    def client(which: int, row: np.ndarray[Any, Any]) -> None:
        for _ in range(20):
            barrier.wait()
            status, body = post_json(address, "/api/predict", {"pixels": _pixels(row), "preprocess": False})
            assert status == 200
            replies[which].append(body)

    threads = [threading.Thread(target=client, args=(0, first)), threading.Thread(target=client, args=(1, second))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(replies[0]) == len(replies[1]) == 20
    assert all(reply["probabilities"] == alone_first["probabilities"] for reply in replies[0])
    assert all(reply["probabilities"] == alone_second["probabilities"] for reply in replies[1])


def _grid(value: float = 0.0, rows: int = 28, columns: int = 28) -> list[list[float]]:
    return [[value] * columns for _ in range(rows)]


def _with(grid: list[list[Any]], row: int, column: int, value: Any) -> list[list[Any]]:
    grid[row][column] = value
    return grid


HUGE_PNG = png_data_url(Image.new("L", (2100, 2100)))
TEXT_AS_IMAGE = "data:image/png;base64," + base64.b64encode(b"this is not a picture").decode()

BAD_POSTS: list[tuple[str, bytes, int, str]] = [
    ("not JSON", b"{not json", 400, "not JSON"),
    ("not UTF-8", b"\xff\xfe\x00", 400, "not JSON"),
    ("a JSON list", b"[1, 2]", 400, "JSON object"),
    ("neither image nor pixels", b'{"preprocess": true}', 400, "exactly one"),
    ("both image and pixels", b'{"image": "data:image/png;base64,", "pixels": []}', 400, "exactly one"),
    ("image not a data URL", b'{"image": "http://example.com/a.png"}', 400, "data URL"),
    ("image not a string", b'{"image": 7}', 400, "data URL"),
    ("invalid base64", b'{"image": "data:image/png;base64,@@@"}', 400, "base64"),
    ("not an image", f'{{"image": "{TEXT_AS_IMAGE}"}}'.encode(), 400, "not an image"),
    ("too many pixels", f'{{"image": "{HUGE_PNG}"}}'.encode(), 413, "pixels"),
]


def _pixel_post(pixels: Any, **extra: Any) -> bytes:
    return json.dumps({"pixels": pixels, **extra}).encode()


BAD_PIXELS: list[tuple[str, bytes, int, str]] = [
    ("27 rows", _pixel_post(_grid(rows=27)), 400, "28 rows"),
    ("a row of 29", _pixel_post([*_grid(rows=3), [0.0] * 29, *_grid(rows=24)]), 400, "row 3"),
    ("a flat list", _pixel_post([0.0] * 784), 400, "28 rows"),
    ("a string value", _pixel_post(_with(_grid(), 5, 5, "x")), 400, "not a number"),
    ("a boolean value", _pixel_post(_with(_grid(), 5, 5, True)), 400, "not a number"),
    ("above 1", _pixel_post(_with(_grid(), 2, 2, 1.5)), 400, "outside 0..1"),
    ("below 0", _pixel_post(_with(_grid(), 2, 2, -0.1)), 400, "outside 0..1"),
    ("NaN", b'{"pixels": [' + b",".join([b"[" + b",".join([b"NaN"] * 28) + b"]"] * 28) + b"]}", 400, "not a number"),
    ("preprocess not a boolean", _pixel_post(_grid(), preprocess="no"), 400, "preprocess"),
]


@pytest.mark.parametrize(("body", "status", "message"), [case[1:] for case in BAD_POSTS + BAD_PIXELS],
                         ids=[case[0] for case in BAD_POSTS + BAD_PIXELS])  # fmt: skip
def test_bad_predict_bodies_get_a_4xx_with_an_error(address: Address, body: bytes, status: int, message: str) -> None:
    got_status, reply = request(address, "POST", "/api/predict", body, {"Content-Type": "application/json"})
    assert got_status == status and message in reply["error"], reply
    assert set(reply) == {"error"} and "Traceback" not in reply["error"]


BAD_GETS = [
    ("/api/weights?layer=7&unit=0", 404, "no layer 7"),
    ("/api/weights?layer=0&unit=16", 404, "no unit 16"),
    ("/api/weights?layer=0&unit=-1", 400, "unit must be 0 or more"),
    ("/api/weights?layer=0&unit=three", 400, "whole number"),
    ("/api/weights?layer=0", 400, "unit=<whole number>"),
    ("/api/mistakes?limit=0", 400, "limit must be 1..500"),
    ("/api/mistakes?limit=100000", 400, "limit must be 1..500"),
    ("/api/confusion?truth=10&guess=0", 400, "classes 0..9"),
    ("/api/confusion?truth=1", 400, "guess=<whole number>"),
    ("/api/test-digit?index=10000", 404, "no test image 10000"),
    ("/api/nothing-here", 404, "no such API path"),
    ("/api/progress", 404, "no training run"),
]


@pytest.mark.parametrize(("path", "status", "message"), BAD_GETS, ids=[case[0] for case in BAD_GETS])
def test_bad_queries_get_a_4xx_with_an_error(address: Address, path: str, status: int, message: str) -> None:
    got_status, reply = request(address, "GET", path)
    assert got_status == status and message in reply["error"], reply


def test_a_body_over_the_limit_is_refused_unread(address: Address) -> None:
    body = b'{"pixels": "' + b"x" * MAX_BODY_BYTES + b'"}'
    status, reply = request(address, "POST", "/api/predict", body, {"Content-Type": "application/json"})
    assert status == 413 and "at most 1,000,000" in reply["error"]


def test_a_huge_claimed_body_is_refused_without_waiting_for_it(address: Address) -> None:
    connection = http.client.HTTPConnection(*address, timeout=10)
    connection.putrequest("POST", "/api/predict")
    connection.putheader("Content-Length", str(10**12))
    connection.endheaders(b"{}")
    response = connection.getresponse()
    assert response.status == 413 and b"at most 1,000,000" in response.read()
    connection.close()


def test_a_post_without_content_length_is_refused(address: Address) -> None:
    connection = http.client.HTTPConnection(*address, timeout=10)
    connection.putrequest("POST", "/api/predict")
    connection.putheader("Content-Type", "application/json")
    connection.endheaders()
    response = connection.getresponse()
    assert response.status == 411 and b"Content-Length" in response.read()
    connection.close()


def test_wrong_methods_are_refused(address: Address) -> None:
    assert request(address, "POST", "/api/model", b"{}")[0] == 405
    assert request(address, "PUT", "/api/predict", b"{}")[0] == 405
    assert request(address, "DELETE", "/api/model")[0] == 405


@pytest.mark.parametrize(
    "path", ["/../../etc/passwd", "/static/../server.py", "/%2e%2e/%2e%2e/etc/passwd", "/server.py", "//etc/passwd"]
)
def test_only_the_pages_own_files_are_served(address: Address, path: str) -> None:
    connection = http.client.HTTPConnection(*address, timeout=10)
    connection.request("GET", path)
    response = connection.getresponse()
    assert response.status == 404 and "not found" in json.loads(response.read())["error"]
    assert response.getheader("Content-Type") == "application/json"
    connection.close()


def test_the_page_and_its_scripts_are_served_same_origin(address: Address) -> None:
    for path, kind in [("/", "text/html"), ("/app.js", "text/javascript"), ("/style.css", "text/css")]:
        connection = http.client.HTTPConnection(*address, timeout=10)
        connection.request("GET", path)
        response = connection.getresponse()
        text = response.read().decode()
        assert response.status == 200 and response.getheader("Content-Type", "").startswith(kind)
        assert "http://" not in text and "https://" not in text  # no CDN, nothing fetched from elsewhere
        connection.close()


def test_the_server_keeps_answering_after_every_bad_request(address: Address) -> None:
    for _, body, _, _ in BAD_POSTS + BAD_PIXELS:
        request(address, "POST", "/api/predict", body)
    assert request(address, "GET", "/api/model")[0] == 200


def test_while_training_the_page_watches_and_drawing_waits() -> None:
    progress = TrainingProgress("a test run")
    with served(App(live=progress)) as address:
        status, body = request(address, "GET", "/api/model")
        assert status == 200 and body["mode"] == "training" and body["training"]["status"] == "starting"
        status, reply = post_json(address, "/api/predict", {"pixels": _grid()})
        assert status == 409 and "still training" in reply["error"]
        status, body = request(address, "GET", "/api/progress?since=0")
        assert status == 200 and body["iteration_loss"] == [] and body["weights_version"] == 0


@pytest.mark.parametrize("host", ["evil.example:80", "attacker.test", ""])
def test_requests_for_another_host_name_are_refused(address: Address, host: str) -> None:
    # A page on another domain that resolves to 127.0.0.1 (DNS rebinding) sends its own name as Host.
    status, reply = request(address, "GET", "/api/model", headers={"Host": host})
    assert status == 403 and "answers requests for 127.0.0.1" in reply["error"]
    status, _ = request(address, "GET", "/api/model", headers={"Host": f"localhost:{address[1]}"})
    assert status == 200
