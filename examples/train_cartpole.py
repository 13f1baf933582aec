"""Train a small PPO agent on CartPole-v1 and write Spinning Up's outputs with spinfast.

A TF1-style graph through ``tf.compat.v1`` (Spinning Up's ``x``, ``pi`` and ``v``
names), logged with ``spinfast.logx.EpochLogger`` as Spinning Up's PPO logs:
progress.txt, config.json, a numbered snapshot every few epochs and the final
agent unnumbered (``simple_save/``, ``vars.pkl`` with the env). This is how the
agent bundled with spinfast (``spinfast example``) was made::

    python examples/train_cartpole.py --out python/spinfast/example_agent

Then watch it, or any of its snapshots::

    spinfast test_policy python/spinfast/example_agent -i 0
"""

from __future__ import annotations

import argparse
import time

import gymnasium as gym
import numpy as np
import tensorflow as tf

from spinfast.logx import EpochLogger
from spinfast.run_utils import setup_logger_kwargs

v1 = tf.compat.v1


def dense(x, size: int, name: str, activation=None):
    """One fully connected layer (tf.compat.v1.layers is gone with Keras 3)."""
    with v1.variable_scope(name):
        w = v1.get_variable(
            "kernel", (x.shape[-1], size), initializer=v1.glorot_uniform_initializer()
        )
        b = v1.get_variable("bias", (size,), initializer=v1.zeros_initializer())
    y = tf.matmul(x, w) + b
    return activation(y) if activation is not None else y


def mlp(x, hidden_sizes: tuple[int, ...], out_size: int, name: str):
    for i, size in enumerate(hidden_sizes):
        x = dense(x, size, f"{name}/hidden{i}", tf.tanh)
    return dense(x, out_size, f"{name}/out")


def discount_cumsum(x: np.ndarray, discount: float) -> np.ndarray:
    """[x0 + d*x1 + d^2*x2 + ..., x1 + d*x2 + ..., ...]"""
    out = np.zeros_like(x)
    running = 0.0
    for t in reversed(range(len(x))):
        running = x[t] + discount * running
        out[t] = running
    return out


def advantages_and_returns(
    rews: list[float], vals: list[float], last_val: float, gamma: float, lam: float
) -> tuple[np.ndarray, np.ndarray]:
    """GAE-lambda advantages and rewards-to-go of one path (bootstrapped from last_val)."""
    rews_, vals_ = np.append(rews, last_val), np.append(vals, last_val)
    deltas = rews_[:-1] + gamma * vals_[1:] - vals_[:-1]
    return discount_cumsum(deltas, gamma * lam), discount_cumsum(rews_, gamma)[:-1]


def ppo(
    env_name: str = "CartPole-v1",
    hidden_sizes: tuple[int, ...] = (32, 32),
    seed: int = 0,
    steps_per_epoch: int = 4000,
    epochs: int = 30,
    gamma: float = 0.99,
    clip_ratio: float = 0.2,
    pi_lr: float = 3e-4,
    vf_lr: float = 1e-3,
    train_pi_iters: int = 80,
    train_v_iters: int = 80,
    lam: float = 0.97,
    target_kl: float = 0.01,
    logger_kwargs: dict | None = None,
    save_freq: int = 10,
) -> None:
    """Proximal Policy Optimization (clip), as Spinning Up's ``ppo`` (tf1) for one process."""
    logger = EpochLogger(**(logger_kwargs or {}))
    logger.save_config(locals())

    env = gym.make(env_name)
    obs_dim, n_acts = env.observation_space.shape[0], env.action_space.n
    np.random.seed(seed)

    graph = tf.Graph()
    with graph.as_default():
        v1.set_random_seed(seed)
        x_ph = v1.placeholder(tf.float32, (None, obs_dim), name="x")
        a_ph = v1.placeholder(tf.int32, (None,), name="a")
        adv_ph, ret_ph, logp_old_ph = (v1.placeholder(tf.float32, (None,)) for _ in range(3))

        # categorical policy and value function
        logits = mlp(x_ph, hidden_sizes, n_acts, "pi")
        logp_all = tf.nn.log_softmax(logits)
        pi = tf.squeeze(tf.random.categorical(logits, 1, seed=seed), axis=1, name="pi")
        logp = tf.reduce_sum(tf.one_hot(a_ph, n_acts) * logp_all, axis=1)
        logp_pi = tf.reduce_sum(tf.one_hot(pi, n_acts) * logp_all, axis=1)
        v = tf.squeeze(mlp(x_ph, hidden_sizes, 1, "v"), axis=1, name="v")

        # PPO objectives
        ratio = tf.exp(logp - logp_old_ph)
        min_adv = tf.where(adv_ph > 0, (1 + clip_ratio) * adv_ph, (1 - clip_ratio) * adv_ph)
        pi_loss = -tf.reduce_mean(tf.minimum(ratio * adv_ph, min_adv))
        v_loss = tf.reduce_mean((ret_ph - v) ** 2)
        approx_kl = tf.reduce_mean(logp_old_ph - logp)
        approx_ent = tf.reduce_mean(-logp)
        clipped = tf.logical_or(ratio > 1 + clip_ratio, ratio < 1 - clip_ratio)
        clipfrac = tf.reduce_mean(tf.cast(clipped, tf.float32))
        train_pi = v1.train.AdamOptimizer(pi_lr).minimize(pi_loss)
        train_v = v1.train.AdamOptimizer(vf_lr).minimize(v_loss)

        sess = v1.Session(graph=graph)
        sess.run(v1.global_variables_initializer())
    logger.setup_tf_saver(sess, inputs={"x": x_ph}, outputs={"pi": pi, "v": v})

    def update(buf: dict[str, np.ndarray]) -> None:
        adv = buf["adv"]
        inputs = {
            x_ph: buf["obs"],
            a_ph: buf["act"],
            adv_ph: (adv - adv.mean()) / (adv.std() + 1e-8),
            ret_ph: buf["ret"],
            logp_old_ph: buf["logp"],
        }
        pi_l_old, v_l_old, ent = sess.run([pi_loss, v_loss, approx_ent], feed_dict=inputs)
        for stop_iter in range(train_pi_iters):  # noqa: B007 (logged after the loop)
            _, kl = sess.run([train_pi, approx_kl], feed_dict=inputs)
            if kl > 1.5 * target_kl:
                break
        logger.store(StopIter=stop_iter)
        for _ in range(train_v_iters):
            sess.run(train_v, feed_dict=inputs)
        pi_l_new, v_l_new, kl, cf = sess.run(
            [pi_loss, v_loss, approx_kl, clipfrac], feed_dict=inputs
        )
        logger.store(
            LossPi=pi_l_old,
            LossV=v_l_old,
            KL=kl,
            Entropy=ent,
            ClipFrac=cf,
            DeltaLossPi=pi_l_new - pi_l_old,
            DeltaLossV=v_l_new - v_l_old,
        )

    start_time = time.time()
    o, _ = env.reset(seed=seed)
    ep_ret, ep_len = 0.0, 0
    for epoch in range(epochs):
        buf = {k: [] for k in ("obs", "act", "rew", "val", "logp")}
        adv, ret, path_start = [], [], 0

        for t in range(steps_per_epoch):
            a, v_t, logp_t = sess.run([pi, v, logp_pi], feed_dict={x_ph: o[None, :]})
            o2, r, terminated, truncated, _ = env.step(int(a[0]))
            for key, value in zip(buf, (o, a[0], r, v_t[0], logp_t[0]), strict=True):
                buf[key].append(value)
            logger.store(VVals=v_t)
            o, ep_ret, ep_len = o2, ep_ret + r, ep_len + 1

            epoch_ended = t == steps_per_epoch - 1
            if terminated or truncated or epoch_ended:
                # bootstrap from the value of the last state unless the pole fell
                last_val = 0.0 if terminated else sess.run(v, feed_dict={x_ph: o[None, :]})[0]
                path = slice(path_start, len(buf["rew"]))
                path_adv, path_ret = advantages_and_returns(
                    buf["rew"][path], buf["val"][path], last_val, gamma, lam
                )
                adv.extend(path_adv)
                ret.extend(path_ret)
                path_start = len(buf["rew"])
                if terminated or truncated:
                    logger.store(EpRet=ep_ret, EpLen=ep_len)
                o, _ = env.reset()
                ep_ret, ep_len = 0.0, 0

        # the seed page's recipe: a numbered snapshot every save_freq epochs...
        if (epoch % save_freq == 0) or (epoch == epochs - 1):
            logger.save_state({"env": env}, epoch)
        # ...and the final agent unnumbered, where Spinning Up's algorithms save it
        if epoch == epochs - 1:
            logger.save_state({"env": env})

        update(
            {
                "obs": np.array(buf["obs"], np.float32),
                "act": np.array(buf["act"], np.int32),
                "adv": np.array(adv, np.float32),
                "ret": np.array(ret, np.float32),
                "logp": np.array(buf["logp"], np.float32),
            }
        )

        logger.log_tabular("Epoch", epoch)
        logger.log_tabular("EpRet", with_min_and_max=True)
        logger.log_tabular("EpLen", average_only=True)
        logger.log_tabular("VVals", with_min_and_max=True)
        logger.log_tabular("TotalEnvInteracts", (epoch + 1) * steps_per_epoch)
        logger.log_tabular("LossPi", average_only=True)
        logger.log_tabular("LossV", average_only=True)
        logger.log_tabular("DeltaLossPi", average_only=True)
        logger.log_tabular("DeltaLossV", average_only=True)
        logger.log_tabular("Entropy", average_only=True)
        logger.log_tabular("KL", average_only=True)
        logger.log_tabular("ClipFrac", average_only=True)
        logger.log_tabular("StopIter", average_only=True)
        logger.log_tabular("Time", time.time() - start_time)
        logger.dump_tabular()

    logger.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", help="output folder (default: Spinning Up's data/ layout)")
    parser.add_argument("--exp-name", default="ppo-cartpole")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--save-freq", type=int, default=10)
    args = parser.parse_args()
    logger_kwargs = setup_logger_kwargs(args.exp_name, args.seed)
    if args.out:
        logger_kwargs["output_dir"] = args.out
    ppo(seed=args.seed, epochs=args.epochs, save_freq=args.save_freq, logger_kwargs=logger_kwargs)


if __name__ == "__main__":
    main()
