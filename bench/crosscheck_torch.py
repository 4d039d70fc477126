"""Cross-check our network against PyTorch: weights copied both ways, same predictions,
matching gradients.

    .venv/bin/pip install torch==2.13.0   # only for this script
    .venv/bin/python bench/crosscheck_torch.py

Exits 0 when every check passes (printing the largest differences), 1 otherwise.
"""

from __future__ import annotations

import os
import sys

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))

from nn.network import Network  # noqa: E402

TORCH_ACTS = {"relu": "ReLU", "tanh": "Tanh", "sigmoid": "Sigmoid", "silu": "SiLU"}


def to_torch(net: Network):
    """A torch.nn.Sequential with our weights (Linear stores W as (out, in))."""
    import torch

    mods = []
    for layer in net.layers:
        lin = torch.nn.Linear(layer.n_in, layer.n_out, dtype=torch.float64)
        with torch.no_grad():
            lin.weight.copy_(torch.from_numpy(np.asarray(layer.W, np.float64).T.copy()))
            lin.bias.copy_(torch.from_numpy(np.asarray(layer.b, np.float64)))
        mods.append(lin)
        name = layer.activation.name
        if name in TORCH_ACTS:
            mods.append(getattr(torch.nn, TORCH_ACTS[name])())
        elif name == "softmax":
            pass  # logits; softmax goes into the loss (CrossEntropyLoss)
    return torch.nn.Sequential(*mods)


def from_torch(model, net: Network) -> None:
    import torch

    lins = [m for m in model if isinstance(m, torch.nn.Linear)]
    for layer, lin in zip(net.layers, lins, strict=True):
        layer.W[...] = lin.weight.detach().numpy().T
        layer.b[...] = lin.bias.detach().numpy()


def main() -> int:
    try:
        import torch
    except ImportError:
        print("crosscheck_torch: install PyTorch first: .venv/bin/pip install torch==2.13.0")
        return 1
    rng = np.random.default_rng(0)
    failures = 0
    for hidden in ("relu", "tanh", "sigmoid", "silu"):
        net = Network([20, 16, 12, 5], [hidden, hidden, "softmax"], dtype=np.float64, rng=rng)
        model = to_torch(net)
        x = rng.normal(size=(32, 20))
        labels = rng.integers(0, 5, 32)
        y = np.eye(5)[labels]

        # predictions
        ours = net.predict_proba(x)
        theirs = torch.softmax(model(torch.from_numpy(x)), dim=1).detach().numpy()
        d_pred = np.abs(ours - theirs).max()

        # gradients of the mean cross-entropy
        net.loss_and_backward(x, y)
        model.zero_grad()
        loss = torch.nn.functional.cross_entropy(model(torch.from_numpy(x)),
                                                 torch.from_numpy(labels))
        loss.backward()
        lins = [m for m in model if isinstance(m, torch.nn.Linear)]
        d_grad = max(max(np.abs(layer.dW - lin.weight.grad.numpy().T).max(),
                         np.abs(layer.db - lin.bias.grad.numpy()).max())
                     for layer, lin in zip(net.layers, lins))

        # and back: torch weights into a fresh network
        with torch.no_grad():
            for lin in lins:
                lin.weight.mul_(0.5)
        twin = Network(net.sizes, net.activations, dtype=np.float64)
        from_torch(model, twin)
        back = twin.predict_proba(x)
        d_back = np.abs(back - torch.softmax(model(torch.from_numpy(x)), 1).detach().numpy()).max()
        ok = d_pred < 1e-12 and d_grad < 1e-12 and d_back < 1e-12
        failures += not ok
        print(f"{hidden:8s} predictions {d_pred:.1e}  gradients {d_grad:.1e}  "
              f"torch->ours {d_back:.1e}  {'ok' if ok else 'MISMATCH'}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
