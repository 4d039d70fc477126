"""The actor-critic of ``neuroevo reinforce``: the evolution policy network as the actor,
a value network as the critic, over ONE flat parameter vector ``[actor | log_std | critic]``.

- Continuous actions: a squashed Gaussian policy.  The actor's last layer gives the mean
  ``z`` of a Gaussian (log standard deviations, one per action, are state-independent
  parameters in the vector); a sample ``u`` becomes the action ``tanh(u)``, in [-1, 1].
  Acting greedily is ``tanh(z)``: exactly the tanh-output network evolution drives with,
  so a saved actor (:meth:`ActorCritic.policy_network`) replays like an evolved one.  (An
  unsquashed Gaussian clipped to [-1, 1] acts differently from its mean near the bounds:
  full throttle in the mean, less on average with the noise.)  The probability ratios of
  PPO are those of ``u``: tanh's Jacobian is the same for the old and the new policy.
- Discrete actions: a categorical policy over the actor's outputs as logits (identity
  output activation; acting greedily is the argmax, as for evolved policies).

:meth:`ActorCritic.loss_and_grad` is the clipped PPO surrogate (or REINFORCE's
``-logp * advantage``), an entropy bonus and the value loss, differentiated by hand and
backpropagated through both networks with :meth:`nn.network.Network.backward`.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np

from evo.rollout import PolicyConfig, make_policy
from nn.network import Network

LOG_2PI = math.log(2.0 * math.pi)


class ActorCritic:
    """``theta = [actor | log_std (continuous only) | critic]`` and its ``grad``."""

    def __init__(self, obs_dim: int, act_dim: int, discrete: bool, policy: PolicyConfig,
                 value_hidden: list[int], init_log_std: float = -0.5,
                 rng: np.random.Generator | None = None, output_scale: float = 0.1,
                 update_dtype=np.float64):
        if policy.recurrent:
            raise ValueError("policy.recurrent: policy gradients need backpropagation "
                             "through time over rollouts, which rl does not have yet; "
                             "recurrent policies are for neuroevo evolve")
        rng = rng if rng is not None else np.random.default_rng(0)
        self.discrete = bool(discrete)
        # what best.npz keeps: logits for discrete actions, tanh actions otherwise
        self.policy_cfg = dataclasses.replace(policy, output="identity") if discrete \
            else dataclasses.replace(policy, output="tanh")
        # the actor computes the logits, or the Gaussian's mean before the tanh
        self.actor = make_policy(obs_dim, act_dim,
                                 dataclasses.replace(policy, output="identity"), rng=rng)
        acts = [policy.activation] * len(value_hidden) + ["identity"]
        self.critic = Network([obs_dim, *value_hidden, 1], acts, loss="mse",
                              dtype=np.float64, rng=rng)
        # a small last actor layer: the first policy acts near the middle of its range
        # (and near-uniformly over discrete actions), so exploration starts from the noise
        last = self.actor.layers[-1]
        last.W *= output_scale
        na, nc = self.actor.num_params, self.critic.num_params
        ns = 0 if self.discrete else act_dim
        self.obs_dim, self.act_dim = obs_dim, act_dim
        self.theta = np.zeros(na + ns + nc)
        self.grad = np.zeros_like(self.theta)
        self.actor.use_buffers(self.theta[:na], self.grad[:na])
        self.critic.use_buffers(self.theta[na + ns:], self.grad[na + ns:])
        self.log_std = self.theta[na:na + ns]
        self.d_log_std = self.grad[na:na + ns]
        self.log_std[...] = init_log_std
        self.actor_slice = slice(0, na)
        # the update's passes in another precision: twin networks over a copy of theta
        self.update_dtype = np.dtype(update_dtype)
        self._twin = None
        if self.update_dtype != self.theta.dtype:
            dt = self.update_dtype
            actor = Network([obs_dim, *policy.hidden, act_dim],
                            [policy.activation] * len(policy.hidden) + ["identity"],
                            loss="mse", dtype=dt)
            critic = Network([obs_dim, *value_hidden, 1], acts, loss="mse", dtype=dt)
            theta, grad = np.zeros(self.num_params, dt), np.zeros(self.num_params, dt)
            actor.use_buffers(theta[:na], grad[:na])
            critic.use_buffers(theta[na + ns:], grad[na + ns:])
            self._twin = (actor, critic, theta, grad, slice(na, na + ns))

    @property
    def num_params(self) -> int:
        return self.theta.shape[0]

    # -- acting ------------------------------------------------------------------------
    def act(self, obs: np.ndarray, rng: np.random.Generator,
            deterministic: bool = False) -> tuple[np.ndarray, np.ndarray]:
        """``obs (N, obs_dim)`` -> ``(samples, logp)``: Gaussian samples ``u (N, act_dim)``
        before the tanh (:meth:`env_actions` makes them actions) or ``(N,)`` indices
        (categorical), and their log-probabilities ``(N,)``.  ``deterministic``: the mean
        (argmax)."""
        out = np.array(self.actor.forward(obs))
        n = len(out)
        if self.discrete:
            logp_all = log_softmax(out)
            if deterministic:
                a = out.argmax(axis=1)
            else:
                cdf = np.cumsum(np.exp(logp_all), axis=1)
                u = rng.random((n, 1)) * cdf[:, -1:]
                a = np.minimum((cdf < u).sum(axis=1), self.act_dim - 1)
            return a, logp_all[np.arange(n), a]
        std = np.exp(self.log_std)
        eps = np.zeros_like(out) if deterministic else rng.standard_normal(out.shape)
        a = out + std * eps
        logp = (-0.5 * eps * eps - self.log_std - 0.5 * LOG_2PI).sum(axis=1)
        return a, logp

    def env_actions(self, samples: np.ndarray) -> np.ndarray:
        """What :meth:`act` sampled -> actions: ``tanh(u)`` in [-1, 1] (continuous), the
        indices themselves (discrete)."""
        return samples if self.discrete else np.tanh(samples)

    def values(self, obs: np.ndarray, chunk: int = 8192) -> np.ndarray:
        """The critic's values ``(N,)``."""
        out = np.empty(len(obs))
        for lo in range(0, len(obs), chunk):
            out[lo:lo + chunk] = self.critic.forward(obs[lo:lo + chunk])[:, 0]
        return out

    # -- the loss and its gradient -------------------------------------------------------
    def loss_and_grad(self, obs: np.ndarray, actions: np.ndarray, logp_old: np.ndarray,
                      adv: np.ndarray, returns: np.ndarray, *, clip: float = 0.2,
                      ent_coef: float = 0.0, vf_coef: float = 0.5,
                      algorithm: str = "ppo") -> dict[str, float]:
        """Fill :attr:`grad` with the gradient of the minibatch loss

            L = policy_loss - ent_coef * mean(entropy) + vf_coef * 0.5 * mean((V - R)^2)

        where policy_loss is PPO's ``-mean(min(r A, clip(r, 1 - clip, 1 + clip) A))``
        (``r = exp(logp - logp_old)``) or, for ``algorithm="reinforce"``,
        ``-mean(logp A)``.  Returns the loss and its parts, the approximate KL divergence
        from the old policy and the share of clipped samples.

        With ``update_dtype`` float32 the networks' passes run in float32 on a copy of
        :attr:`theta`, and the gradient is copied back into the float64 :attr:`grad`."""
        b = len(obs)
        if self._twin is None:
            actor, critic = self.actor, self.critic
            log_std, d_log_std = self.log_std, self.d_log_std
        else:
            actor, critic, theta, grad, std_slice = self._twin
            theta[...] = self.theta
            log_std, d_log_std = theta[std_slice], grad[std_slice]
            obs = np.asarray(obs, self.update_dtype)
        dt = actor.dtype
        out = actor.forward(obs)
        if self.discrete:
            logp_all = log_softmax(out)
            p = np.exp(logp_all)
            rows = np.arange(b)
            logp = logp_all[rows, actions]
            ent = -(p * logp_all).sum(axis=1)
        else:
            std = np.exp(log_std)
            z = (actions - out) / std
            logp = (-0.5 * z * z - log_std - 0.5 * LOG_2PI).sum(axis=1)
            ent = np.full(b, float((log_std + 0.5 * (LOG_2PI + 1.0)).sum()))
        log_ratio = logp - logp_old
        ratio = np.exp(log_ratio)
        if algorithm == "ppo":
            clipped = np.clip(ratio, 1.0 - clip, 1.0 + clip)
            surr = np.minimum(ratio * adv, clipped * adv)
            # the gradient flows where the unclipped term is the smaller one
            live = ratio * adv <= clipped * adv
            d_logp = np.where(live, -adv * ratio, 0.0) / b
            clip_frac = float(np.mean(np.abs(ratio - 1.0) > clip))
        else:
            surr = logp * adv
            d_logp = -adv / b
            clip_frac = 0.0
        policy_loss = -float(surr.mean())
        entropy = float(ent.mean())
        # dL/d(actor output)
        if self.discrete:
            onehot = np.zeros_like(p)
            onehot[rows, actions] = 1.0
            d_out = d_logp[:, None] * (onehot - p)
            # d(-ent_coef * mean H)/dz = ent_coef / b * p (log p + H)
            d_out += (ent_coef / b) * p * (logp_all + ent[:, None])
        else:
            d_out = d_logp[:, None] * (z / std)
        actor.backward(d_out.astype(dt, copy=False), need_input_grad=False)
        if not self.discrete:
            # dlogp/dlog_std = z^2 - 1; dH/dlog_std = 1
            d_log_std[...] = (d_logp[:, None] * (z * z - 1.0)).sum(axis=0) - ent_coef
        v = critic.forward(obs)[:, 0]
        err = v - returns
        value_loss = 0.5 * float(np.mean(err * err))
        critic.backward(((vf_coef / b) * err[:, None]).astype(dt, copy=False),
                        need_input_grad=False)
        if self._twin is not None:
            self.grad[...] = grad
        return {"loss": policy_loss - ent_coef * entropy + vf_coef * value_loss,
                "policy_loss": policy_loss, "value_loss": value_loss, "entropy": entropy,
                "approx_kl": float(np.mean((ratio - 1.0) - log_ratio)),
                "clip_frac": clip_frac}

    def clip_grad(self, max_norm: float) -> float:
        """Scale :attr:`grad` to a global norm of at most ``max_norm`` (0: no clipping);
        returns the norm before."""
        norm = float(np.sqrt(np.dot(self.grad, self.grad)))
        if max_norm > 0 and norm > max_norm:
            self.grad *= max_norm / norm
        return norm

    def policy_network(self, params: np.ndarray | None = None) -> Network:
        """The greedy policy as the evolution policy network (what ``best.npz`` keeps): the
        actor's weights (or ``params``) with a tanh output for continuous actions."""
        net = make_policy(self.obs_dim, self.act_dim, self.policy_cfg)
        net.set_params(self.actor.theta if params is None else params)
        return net


def log_softmax(z: np.ndarray) -> np.ndarray:
    m = z.max(axis=1, keepdims=True)
    s = z - m
    return s - np.log(np.exp(s).sum(axis=1, keepdims=True))


def fold_obs_norm(net: Network, mean: np.ndarray, scale: np.ndarray) -> None:
    """Make ``net`` take raw observations ``x`` where it took ``(x - mean) * scale``: its
    first (dense) layer becomes ``x @ (scale[:, None] * W) + (b - (mean * scale) @ W)``."""
    layer = net.layers[0]
    if getattr(layer, "kind", None) != "dense":
        raise ValueError("observation normalisation folds into a dense first layer only")
    w = np.array(layer.W)
    mean = np.asarray(mean, np.float64)
    scale = np.asarray(scale, np.float64)
    layer.b[...] = layer.b - (mean * scale) @ w
    layer.W[...] = w * scale[:, None]
