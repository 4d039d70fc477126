"""The actor-critic of ``neuroevo reinforce`` (rl.policy): the hand-derived gradient of the
PPO and REINFORCE losses against central finite differences of an independently written
loss (and against PyTorch's autograd), and what ``act`` samples against closed forms."""

from __future__ import annotations

import math

import numpy as np
import pytest

from evo.rollout import PolicyConfig
from rl.policy import ActorCritic
from tests.nn.checks import numeric_grad

OBS, ACT, BATCH = 3, 2, 12
CLIP = 0.2
# the ratios pi/pi_old of the PPO batch: some inside [1 - CLIP, 1 + CLIP], some outside on
# either side, none within 0.04 of a boundary (where the min/clip kinks are)
RATIOS = np.array([0.5, 0.65, 0.9, 0.95, 1.05, 1.1, 1.4, 1.7, 0.6, 1.5, 0.97, 1.3])
SIGNS = np.array([1, -1, 1, -1, 1, -1, 1, -1, -1, 1, 1, -1])


def make_ac(discrete: bool, act_dim: int = ACT, seed: int = 1) -> ActorCritic:
    """A small actor-critic with non-trivial outputs and per-action log stds."""
    rng = np.random.default_rng(seed)
    ac = ActorCritic(OBS, act_dim, discrete, PolicyConfig(hidden=[5], activation="tanh"),
                     [4], init_log_std=-0.3, rng=rng, output_scale=1.0)
    ac.theta[...] += rng.normal(0, 0.3, ac.num_params)  # non-zero biases, critic output
    if not discrete:
        ac.log_std[...] = np.linspace(-0.4, 0.3, act_dim)
    return ac


def reference_loss(ac, obs, actions, logp_old, adv, returns, clip, ent_coef, vf_coef,
                   algorithm):
    """The loss written out from the definitions: the densities, the PPO surrogate (or
    -logp * A), the entropy bonus and the value loss, from the networks' outputs."""
    out = np.array(ac.actor.forward(obs))
    if ac.discrete:
        e = np.exp(out - out.max(axis=1, keepdims=True))
        p = e / e.sum(axis=1, keepdims=True)
        logp = np.log(p[np.arange(len(obs)), actions])
        ent = -(p * np.log(p)).sum(axis=1)
    else:
        std = np.exp(ac.log_std)
        dens = np.exp(-((actions - out) ** 2) / (2 * std ** 2)) / (std * math.sqrt(2 * math.pi))
        logp = np.log(dens).sum(axis=1)
        ent = np.full(len(obs), np.sum(0.5 * np.log(2 * math.pi * math.e * std ** 2)))
    if algorithm == "ppo":
        r = np.exp(logp - logp_old)
        policy_loss = -np.mean(np.minimum(r * adv, np.clip(r, 1 - clip, 1 + clip) * adv))
    else:
        policy_loss = -np.mean(logp * adv)
    v = np.array(ac.critic.forward(obs))[:, 0]
    return policy_loss - ent_coef * ent.mean() + vf_coef * 0.5 * np.mean((v - returns) ** 2)


def ppo_batch(ac: ActorCritic, seed: int = 2):
    """Observations, sampled actions and logp_old set so that the ratios are RATIOS."""
    rng = np.random.default_rng(seed)
    obs = rng.normal(size=(BATCH, OBS))
    actions, logp = ac.act(obs, rng)
    logp_old = logp - np.log(RATIOS)
    adv = SIGNS * rng.uniform(0.3, 1.5, BATCH)
    returns = rng.normal(size=BATCH)
    return obs, actions, logp_old, adv, returns


@pytest.mark.parametrize("discrete", [False, True], ids=["gaussian", "categorical"])
def test_float32_update_matches_float64(discrete):
    """``update_dtype=float32``: the same loss and gradient as float64 to float32's
    precision, written into the float64 grad; the parameters stay float64."""
    act_dim = 3 if discrete else ACT
    ref, fast = make_ac(discrete, act_dim), make_ac(discrete, act_dim)
    fast32 = ActorCritic(OBS, act_dim, discrete, PolicyConfig(hidden=[5], activation="tanh"),
                         [4], init_log_std=-0.3, rng=np.random.default_rng(1),
                         output_scale=1.0, update_dtype=np.float32)
    fast32.theta[...] = fast.theta
    obs, actions, logp_old, adv, returns = ppo_batch(ref)
    kw = dict(clip=CLIP, ent_coef=0.05, vf_coef=0.7, algorithm="ppo")
    s64 = ref.loss_and_grad(obs, actions, logp_old, adv, returns, **kw)
    s32 = fast32.loss_and_grad(obs, actions, logp_old, adv, returns, **kw)
    assert fast32.theta.dtype == fast32.grad.dtype == np.float64
    assert s32["loss"] == pytest.approx(s64["loss"], rel=1e-5)
    scale = np.abs(ref.grad).max()
    np.testing.assert_allclose(fast32.grad, ref.grad, rtol=1e-4, atol=1e-5 * scale)
    assert not np.array_equal(fast32.grad, ref.grad)  # it really ran in float32
    # a changed theta is seen by the next call (the float32 copy is refreshed)
    for ac in (ref, fast32):
        ac.theta[...] += 0.01
        ac.loss_and_grad(obs, actions, logp_old, adv, returns, **kw)
    np.testing.assert_allclose(fast32.grad, ref.grad, rtol=1e-4, atol=1e-5 * scale)


@pytest.mark.parametrize("algorithm", ["ppo", "reinforce"])
@pytest.mark.parametrize("discrete", [False, True], ids=["gaussian", "categorical"])
def test_gradient_matches_finite_differences(discrete, algorithm):
    ac = make_ac(discrete, act_dim=3 if discrete else ACT)
    obs, actions, logp_old, adv, returns = ppo_batch(ac)
    kw = dict(clip=CLIP, ent_coef=0.05, vf_coef=0.7, algorithm=algorithm)
    stats = ac.loss_and_grad(obs, actions, logp_old, adv, returns, **kw)
    grad = ac.grad.copy()
    ref = reference_loss(ac, obs, actions, logp_old, adv, returns, **kw)
    assert stats["loss"] == pytest.approx(ref, rel=1e-12, abs=1e-12)

    # the batch really has clipped and unclipped samples, and of both kinds: clipped ones
    # that pass no gradient (the clipped term is the min) and ones that still do
    ratio = np.exp(np.log(RATIOS))
    outside = np.abs(ratio - 1) > CLIP
    assert 0 < outside.sum() < BATCH
    assert (outside & (ratio * adv < np.clip(ratio, 1 - CLIP, 1 + CLIP) * adv)).any()
    assert (outside & (ratio * adv > np.clip(ratio, 1 - CLIP, 1 + CLIP) * adv)).any()
    if algorithm == "ppo":
        assert stats["clip_frac"] == pytest.approx(outside.mean())
    else:
        assert stats["clip_frac"] == 0.0

    def ours():
        return ac.loss_and_grad(obs, actions, logp_old, adv, returns, **kw)["loss"]

    def theirs():
        return reference_loss(ac, obs, actions, logp_old, adv, returns, **kw)

    for f in (ours, theirs):
        num = numeric_grad(f, ac.theta, eps=1e-6)
        np.testing.assert_allclose(grad, num, rtol=1e-5, atol=1e-8)
    # every part of theta takes part: the actor, the log stds, the critic
    na = ac.actor.num_params
    assert np.abs(grad[:na]).max() > 1e-3 and np.abs(grad[-ac.critic.num_params:]).max() > 1e-3
    if not discrete:
        assert np.abs(ac.d_log_std).max() > 1e-3
    # the gradient is overwritten on every call, never accumulated
    ac.loss_and_grad(obs, actions, logp_old, adv, returns, **kw)
    np.testing.assert_array_equal(ac.grad, grad)


@pytest.mark.parametrize("discrete", [False, True], ids=["gaussian", "categorical"])
def test_clipping_cuts_the_gradient_of_clipped_samples(discrete):
    # Only the samples whose clipped term is the min: their policy gradient is zero, so
    # dropping them from the policy part changes nothing (value and entropy terms aside).
    ac = make_ac(discrete)
    obs, actions, logp_old, adv, returns = ppo_batch(ac)
    dead = RATIOS * adv > np.clip(RATIOS, 1 - CLIP, 1 + CLIP) * adv
    assert 0 < dead.sum() < BATCH
    ac.loss_and_grad(obs, actions, logp_old, adv, returns, clip=CLIP, vf_coef=0.0)
    full = ac.grad.copy()
    a2 = np.where(dead, 0.0, adv)
    ac.loss_and_grad(obs, actions, logp_old, a2, returns, clip=CLIP, vf_coef=0.0)
    np.testing.assert_allclose(ac.grad, full, rtol=0, atol=1e-15)
    # while with a huge clip nothing is clipped and the gradient differs
    ac.loss_and_grad(obs, actions, logp_old, adv, returns, clip=10.0, vf_coef=0.0)
    assert np.abs(ac.grad - full).max() > 1e-4


@pytest.mark.parametrize("discrete", [False, True], ids=["gaussian", "categorical"])
def test_act_logp_is_what_the_loss_sees(discrete):
    """With logp_old from act(): every ratio is 1, no KL, nothing clipped, and PPO's
    gradient is REINFORCE's."""
    ac = make_ac(discrete)
    rng = np.random.default_rng(5)
    obs = rng.normal(size=(64, OBS))
    actions, logp = ac.act(obs, rng)
    adv, returns = rng.normal(size=64), rng.normal(size=64)
    stats = ac.loss_and_grad(obs, actions, logp, adv, returns, clip=CLIP, ent_coef=0.01)
    assert abs(stats["approx_kl"]) < 1e-12 and stats["clip_frac"] == 0.0
    ppo = ac.grad.copy()
    ac.loss_and_grad(obs, actions, logp, adv, returns, ent_coef=0.01, algorithm="reinforce")
    np.testing.assert_allclose(ppo, ac.grad, rtol=1e-10, atol=1e-13)
    # and a policy that has moved shows a positive KL estimate
    ac.theta[:ac.actor.num_params] += 0.2
    stats = ac.loss_and_grad(obs, actions, logp, adv, returns, clip=CLIP)
    assert stats["approx_kl"] > 1e-4


def test_gaussian_act_log_density_and_samples():
    ac = make_ac(False)
    rng = np.random.default_rng(7)
    obs = rng.normal(size=(6, OBS))
    mu = np.array(ac.actor.forward(obs))
    assert np.abs(mu).max() > 0.05  # the means are not all ~0
    a, logp = ac.act(obs, rng)
    assert a.shape == (6, ACT) and logp.shape == (6,)
    std = np.exp(ac.log_std)
    dens = np.exp(-((a - mu) ** 2) / (2 * std ** 2)) / (std * math.sqrt(2 * math.pi))
    np.testing.assert_allclose(logp, np.log(dens).sum(axis=1), rtol=1e-12, atol=1e-12)
    # deterministic: the mean, at its density's peak
    a, logp = ac.act(obs, rng, deterministic=True)
    np.testing.assert_array_equal(a, mu)
    np.testing.assert_allclose(logp, np.sum(-np.log(std * math.sqrt(2 * math.pi))))
    # many draws for one observation: mean mu, standard deviation exp(log_std)
    n = 40_000
    x = np.repeat(obs[:1], n, axis=0)
    a, _ = ac.act(x, rng)
    np.testing.assert_allclose(a.mean(axis=0), mu[0], rtol=0, atol=4 * std.max() / math.sqrt(n))
    np.testing.assert_allclose(a.std(axis=0), std, rtol=0.02)
    # the same generator state gives the same actions
    a1, _ = ac.act(obs, np.random.default_rng(3))
    a2, _ = ac.act(obs, np.random.default_rng(3))
    np.testing.assert_array_equal(a1, a2)


def test_categorical_act_samples_softmax_probabilities():
    ac = make_ac(True, act_dim=4)
    last = ac.actor.layers[-1]
    probs = np.array([0.5, 0.3, 0.15, 0.05])
    last.W[...] = 0.0  # logits log(probs) + 2, whatever the observation
    last.b[...] = np.log(probs) + 2.0
    rng = np.random.default_rng(8)
    n = 40_000
    a, logp = ac.act(rng.normal(size=(n, OBS)), rng)
    assert a.shape == (n,) and a.dtype.kind == "i" and set(np.unique(a)) == {0, 1, 2, 3}
    freq = np.bincount(a, minlength=4) / n
    np.testing.assert_allclose(freq, probs, rtol=0, atol=0.01)
    np.testing.assert_allclose(logp, np.log(probs)[a], rtol=0, atol=1e-12)
    a, logp = ac.act(rng.normal(size=(5, OBS)), rng, deterministic=True)
    np.testing.assert_array_equal(a, 0)
    np.testing.assert_allclose(logp, math.log(0.5), atol=1e-12)


def test_categorical_act_log_probabilities_and_argmax():
    ac = make_ac(True, act_dim=4)
    rng = np.random.default_rng(9)
    obs = rng.normal(size=(200, OBS))
    logits = np.array(ac.actor.forward(obs))
    p = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    a, logp = ac.act(obs, rng)
    np.testing.assert_allclose(logp, np.log(p[np.arange(200), a]), rtol=1e-12, atol=1e-12)
    a, logp = ac.act(obs, rng, deterministic=True)
    np.testing.assert_array_equal(a, logits.argmax(axis=1))
    assert len(np.unique(a)) > 1  # the observations do matter
    np.testing.assert_allclose(logp, np.log(p.max(axis=1)), rtol=1e-12, atol=1e-12)


def test_values_are_the_critic_in_chunks():
    ac = make_ac(False)
    obs = np.random.default_rng(4).normal(size=(50, OBS))
    whole = np.array(ac.critic.forward(obs))[:, 0]
    np.testing.assert_allclose(ac.values(obs, chunk=7), whole, rtol=0, atol=1e-15)


def test_clip_grad_scales_to_the_norm():
    ac = make_ac(False)
    ac.grad[...] = np.random.default_rng(0).normal(size=ac.num_params)
    g = ac.grad.copy()
    norm = ac.clip_grad(1.0)
    assert norm == pytest.approx(np.linalg.norm(g))
    assert np.linalg.norm(ac.grad) == pytest.approx(1.0)
    np.testing.assert_allclose(ac.grad, g / np.linalg.norm(g))
    ac.grad[...] = g
    ac.clip_grad(0.0)  # off
    np.testing.assert_array_equal(ac.grad, g)
    ac.clip_grad(1e6)  # under the limit: untouched
    np.testing.assert_array_equal(ac.grad, g)


@pytest.mark.parametrize("discrete", [False, True], ids=["gaussian", "categorical"])
def test_ppo_gradient_matches_pytorch_autograd(discrete):
    torch = pytest.importorskip("torch", reason="PyTorch is not installed "
                                "(pip install torch==2.13.0+cpu)")
    ac = make_ac(discrete, act_dim=3 if discrete else ACT)
    obs, actions, logp_old, adv, returns = ppo_batch(ac, seed=6)
    kw = dict(clip=CLIP, ent_coef=0.03, vf_coef=0.5)
    stats = ac.loss_and_grad(obs, actions, logp_old, adv, returns, **kw)

    def tensors(net):
        return [(torch.tensor(np.array(layer.W), requires_grad=True),
                 torch.tensor(np.array(layer.b), requires_grad=True), layer.activation.name)
                for layer in net.layers]

    def forward(params, x):
        for w, b, act in params:
            x = x @ w + b
            x = torch.tanh(x) if act == "tanh" else x
            assert act in ("tanh", "identity")
        return x

    actor, critic = tensors(ac.actor), tensors(ac.critic)
    log_std = torch.tensor(np.array(ac.log_std), requires_grad=True)
    x = torch.from_numpy(obs)
    out = forward(actor, x)
    if discrete:
        dist = torch.distributions.Categorical(logits=out)
        logp = dist.log_prob(torch.from_numpy(actions))
        ent = dist.entropy()
    else:
        dist = torch.distributions.Normal(out, torch.exp(log_std).expand_as(out))
        logp = dist.log_prob(torch.from_numpy(actions)).sum(dim=1)
        ent = dist.entropy().sum(dim=1)
    ratio = torch.exp(logp - torch.from_numpy(logp_old))
    a = torch.from_numpy(adv)
    surr = torch.minimum(ratio * a, torch.clamp(ratio, 1 - CLIP, 1 + CLIP) * a)
    v = forward(critic, x)[:, 0]
    loss = (-surr.mean() - kw["ent_coef"] * ent.mean()
            + kw["vf_coef"] * 0.5 * ((v - torch.from_numpy(returns)) ** 2).mean())
    loss.backward()
    assert stats["loss"] == pytest.approx(loss.item(), rel=1e-12, abs=1e-12)
    assert stats["entropy"] == pytest.approx(ent.mean().item(), rel=1e-12)
    for net, params in ((ac.actor, actor), (ac.critic, critic)):
        for layer, (w, b, _) in zip(net.layers, params, strict=True):
            np.testing.assert_allclose(layer.dW, w.grad.numpy(), rtol=1e-10, atol=1e-13)
            np.testing.assert_allclose(layer.db, b.grad.numpy(), rtol=1e-10, atol=1e-13)
    if not discrete:
        np.testing.assert_allclose(ac.d_log_std, log_std.grad.numpy(), rtol=1e-10, atol=1e-13)


@pytest.mark.parametrize("discrete", [False, True], ids=["gaussian", "categorical"])
def test_the_saved_policy_acts_as_the_greedy_actor(discrete):
    """policy_network() (what best.npz keeps) gives the actions of act(deterministic=True)
    as the environments receive them: tanh of the Gaussian's mean, or the argmax."""
    ac = make_ac(discrete, act_dim=3)
    rng = np.random.default_rng(12)
    obs = rng.normal(size=(40, OBS))
    samples, _ = ac.act(obs, rng, deterministic=True)
    net = ac.policy_network()
    out = np.array(net.forward(obs))
    if discrete:
        np.testing.assert_array_equal(out.argmax(axis=1), samples)
        np.testing.assert_array_equal(ac.env_actions(samples), samples)
    else:
        np.testing.assert_allclose(out, np.tanh(samples), rtol=0, atol=1e-15)
        np.testing.assert_allclose(ac.env_actions(samples), out, rtol=0, atol=1e-15)
        noisy, _ = ac.act(obs * 20, rng)  # any sample becomes an action in [-1, 1]
        acts = ac.env_actions(noisy)
        assert np.abs(acts).max() <= 1 and np.abs(noisy).max() > 1
    # other parameters: the network of those
    other = ac.actor.get_params() * 0.5
    np.testing.assert_array_equal(ac.policy_network(other).theta, other)
    np.testing.assert_array_equal(ac.actor.theta * 0.5, other)  # the actor is untouched
