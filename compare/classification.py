"""Classification in ``neuroevo compare``: one network trained on a dataset by backprop (SGD
with momentum, and Adam), by ``SimpleGA`` and by ``OpenAIES``.

Evolution's fitness is the negative cross-entropy on a mini-batch drawn afresh each
generation, computed for the whole population with one ``forward_population`` call.  Every
method gets the same training data and the same budget of training seconds (test
evaluations pause the clock).
"""

from __future__ import annotations

import dataclasses
import time

import numpy as np

from compare.config import CompareConfig
from evo.registry import STRATEGIES
from nn.network import Network
from nn.train import TrainConfig, loss_and_accuracy, make_optimizer, one_hot


def _make_net(data, cfg: CompareConfig, seed: int, convnet: bool = False) -> Network:
    rng = np.random.default_rng(np.random.SeedSequence([seed, 11]))
    if convnet:
        return Network(layers=cfg.cnn.layers, input_shape=data.input_shape, rng=rng)
    sizes = [data.n_inputs, *cfg.hidden, data.n_classes]
    acts = [cfg.activation] * len(cfg.hidden) + ["softmax"]
    return Network(sizes, acts, rng=rng)


class _Clock:
    """Counts training seconds only: ``pause()`` while measuring test accuracy."""

    def __init__(self):
        self.used = 0.0
        self._t = time.perf_counter()

    def now(self) -> float:
        return self.used + time.perf_counter() - self._t

    def pause(self):
        self.used = self.now()

    def resume(self):
        self._t = time.perf_counter()


def run_classification(method: str, data, cfg: CompareConfig, seed: int, budget: float,
                       tick=lambda s: None, convnet: bool = False) -> dict:
    """Train for ``budget`` seconds; returns the curve ``seconds, evaluations, accuracy``
    and the parameter count.  ``convnet``: the network is ``cfg.cnn.layers`` (evolution
    then runs with ``cfg.cnn``'s settings)."""
    net = _make_net(data, cfg, seed, convnet)
    if convnet:
        cfg = cfg.for_task("-cnn")
    rng = np.random.default_rng(np.random.SeedSequence([seed, 12]))
    x, y = data.x_train, data.y_train
    x_test, y_test = data.x_test, data.y_test
    # test accuracy at geometrically spaced times (1% of the budget to all of it): the
    # early minutes, where the methods differ most, are seen in as much detail as the end
    marks = np.geomspace(budget / 100, budget, cfg.evaluations)
    curve = {"seconds": [0.0], "evaluations": [0],
             "accuracy": [loss_and_accuracy(net, x_test, y_test)[1]]}
    evals = 0
    clock = _Clock()

    def record(params=None):
        clock.pause()
        if params is not None:
            net.set_params(params.astype(net.dtype))
        curve["seconds"].append(clock.used)
        curve["evaluations"].append(evals)
        curve["accuracy"].append(loss_and_accuracy(net, x_test, y_test)[1])
        tick(clock.used)
        clock.resume()

    k = 0
    if method.startswith("backprop"):
        tc = TrainConfig(batch_size=cfg.batch_size, optimizer=method.split("-")[1],
                         lr=cfg.sgd_lr if method == "backprop-sgd" else cfg.adam_lr,
                         momentum=0.9, l2=0.0, decay=0.0)
        opt = make_optimizer(tc, net)
        lr0 = opt.lr
        targets = np.zeros((cfg.batch_size, data.n_classes), net.dtype)
        while k < len(marks):
            perm = rng.permutation(len(x))
            for lo in range(0, len(x), cfg.batch_size):
                idx = perm[lo:lo + cfg.batch_size]
                opt.lr = lr0 * cfg.step_factor(clock.now(), budget)
                net.loss_and_backward(x[idx], one_hot(y[idx], data.n_classes,
                                                      out=targets[:len(idx)]))
                opt.step(net.theta, net.grad)
                evals += len(idx)
                if clock.now() >= marks[k]:
                    record()
                    k += 1
                    if k == len(marks):
                        break
    else:
        settings = cfg.ga if method == "ga" else cfg.es
        strategy = STRATEGIES[method](net.num_params, cfg.population, settings,
                                      init_params=net.get_params(), init_scale=cfg.init_scale)
        idx_all = np.arange(len(x))
        step_key = "mutation_sigma" if method == "ga" else "lr"
        step0 = getattr(settings, step_key)
        while k < len(marks):
            strategy.settings = dataclasses.replace(
                settings, **{step_key: step0 * cfg.step_factor(clock.now(), budget)})
            pop = strategy.ask(rng)  # (P, D)
            idx = rng.choice(idx_all, size=min(cfg.fitness_batch, len(x)), replace=False)
            probs = net.forward_population(x[idx], pop.astype(np.float32))  # (P, B, C)
            p_true = probs[:, np.arange(len(idx)), y[idx]]  # (P, B)
            fitness = np.log(np.maximum(p_true, 1e-12)).mean(axis=1)  # -cross-entropy
            strategy.tell(pop, fitness.astype(np.float64))
            evals += pop.shape[0] * len(idx)
            if clock.now() >= marks[k]:
                record(strategy.mean)
                k += 1
    return {"curve": curve, "num_params": net.num_params}
