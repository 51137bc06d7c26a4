"""The PyTorch side, in its own process so its OpenMP/MKL thread pools never share a process with NumPy's.

``python bench/torch_side.py DATA_DIR`` (the benchmark starts it) loads MNIST, prints a JSON line about torch,
then answers each JSON request line on stdin with a JSON line: one epoch per request, so that netkit and
PyTorch take turns epoch by epoch. What each case trains: ``bench/README.md``. The trained weights go back
into a netkit model, so accuracy comes from the same ``netkit.model.evaluation.evaluate`` as netkit's.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import torch
from harness import SEED, WARM_UP, Case, Mnist, build_model, copy_weights_in, load_mnist, repeat
from torch import nn
from torch.nn import functional

from netkit.model.evaluation import evaluate
from netkit.model.network import Network


def torch_net(model: Network, activation: str) -> nn.Sequential:
    """The netkit model's architecture and current weights as a PyTorch module (softmax left to the loss)."""
    modules: list[nn.Module] = []
    for index, views in enumerate(model.parameter_views):
        linear = nn.Linear(*views["weight"].shape)
        with torch.no_grad():
            linear.weight.copy_(torch.from_numpy(views["weight"].T.copy()))
            linear.bias.copy_(torch.from_numpy(views["bias"].copy()))
        modules.append(linear)
        if index < len(model.parameter_views) - 1:
            modules.append(nn.Sigmoid() if activation == "sigmoid" else nn.ReLU())
    return nn.Sequential(*modules)


class Session:
    """One case being trained on ``threads`` intra-op threads, an epoch per request."""

    def __init__(self, case: Case, data: Mnist, threads: int) -> None:
        self.case, self.threads = case, threads
        self.model = build_model(case)  # the same initial weights as netkit's; later, the scoring copy
        self.net = torch_net(self.model, case.activation).train()
        self.optimizer = torch.optim.SGD(self.net.parameters(), lr=case.learning_rate)
        self.images = torch.from_numpy(data.train_images[: case.rows])
        self.labels = torch.from_numpy(data.train_labels[: case.rows])
        self.generator = torch.Generator().manual_seed(SEED)

    def epoch(self) -> float:
        """One epoch; records every step's loss as netkit's loop does."""
        torch.set_num_threads(self.threads)
        net, optimizer, batch_size = self.net, self.optimizer, self.case.batch_size
        images, labels = self.images, self.labels
        started = time.perf_counter()
        losses = []
        order = torch.randperm(images.shape[0], generator=self.generator)
        for start in range(0, images.shape[0], batch_size):
            rows = order[start : start + batch_size]
            image_batch = images.index_select(0, rows)
            label_batch = labels.index_select(0, rows)
            optimizer.zero_grad(set_to_none=True)
            loss = functional.cross_entropy(net(image_batch), label_batch)
            loss.backward()  # type: ignore[no-untyped-call]
            optimizer.step()
            losses.append(loss.item())
        return time.perf_counter() - started

    def test_accuracy(self, data: Mnist) -> float:
        linears = [layer for layer in self.net if isinstance(layer, nn.Linear)]
        copy_weights_in(
            self.model, [(layer.weight.detach().numpy().T, layer.bias.detach().numpy()) for layer in linears]
        )
        return evaluate(self.model, data.test_images, data.test_labels).accuracy


def main(data_dir: str) -> None:
    """Answer one JSON request per stdin line with one JSON line, until stdin closes: begin / epoch / end a
    session, or time predictions (softmax probabilities of the whole test set, as ``predict_proba``)."""
    data, default_threads, sessions = load_mnist(Path(data_dir)), torch.get_num_threads(), {}
    for threads in {default_threads, 1}:  # thread pools and allocator started before anything is timed
        Session(WARM_UP, data, threads).epoch()
    torch.set_num_threads(default_threads)
    hello = {"version": torch.__version__, "default_threads": default_threads}
    print(json.dumps({**hello, "interop_threads": torch.get_num_interop_threads()}), flush=True)
    for line in sys.stdin:
        request = json.loads(line)
        operation, name, result = request["op"], request.get("session", ""), {}
        if operation == "begin":
            threads = request["threads"] or default_threads
            sessions[name], result = Session(Case(**request["case"]), data, threads), {"threads": threads}
        elif operation == "epoch":
            result = {"seconds": sessions[name].epoch()}
        elif operation == "end":
            session = sessions.pop(name)
            result = {"threads": session.threads, "test_accuracy": session.test_accuracy(data)}
        elif operation == "predict":
            case = Case(**request["case"])
            net, test = torch_net(build_model(case), case.activation).eval(), torch.from_numpy(data.test_images)

            def predict(net: nn.Module = net, test: torch.Tensor = test) -> None:
                with torch.inference_mode():
                    torch.softmax(net(test), dim=1)

            result = repeat(predict, request["repeats"])
        torch.set_num_threads(default_threads)
        print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main(sys.argv[1])
