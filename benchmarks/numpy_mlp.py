"""What a user writes instead of bprop: a vectorised NumPy MLP (issue 16's baseline).

float32 throughout, the BLAS through ``@``, relu hidden layers, a softmax
output with cross-entropy, and Adam with Keras' defaults (lr 1e-3, beta_1
0.9, beta_2 0.999, epsilon 1e-7): forward, backward and update in about 60
lines, the way a NumPy tutorial writes them.
"""
from __future__ import annotations

import numpy as np

__all__ = ["NumpyMLP"]


class NumpyMLP:
    """``NumpyMLP(units, seed)``: units (784, h1, ..., 10); Glorot-uniform weights."""

    def __init__(self, units, seed=0, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-7):
        rng = np.random.default_rng(seed)
        self.params = []
        for fan_in, fan_out in zip(units[:-1], units[1:]):
            limit = np.sqrt(6.0 / (fan_in + fan_out))
            self.params.append(rng.uniform(-limit, limit, (fan_in, fan_out)).astype(np.float32))
            self.params.append(np.zeros(fan_out, np.float32))
        self.m = [np.zeros_like(p) for p in self.params]
        self.v = [np.zeros_like(p) for p in self.params]
        self.lr, self.beta1, self.beta2, self.eps, self.t = lr, beta1, beta2, eps, 0
        self.rng = rng

    def forward(self, x):
        """Logits, and every layer's input (for the backward pass)."""
        acts = [x]
        h = x
        n_layers = len(self.params) // 2
        for i in range(n_layers):
            h = h @ self.params[2 * i] + self.params[2 * i + 1]
            if i < n_layers - 1:
                h = np.maximum(h, 0)
            acts.append(h)
        return h, acts

    def gradients(self, x, y):
        """(mean cross-entropy, gradient of every parameter) on one batch."""
        logits, acts = self.forward(x)
        z = logits - logits.max(axis=1, keepdims=True)
        p = np.exp(z)
        p /= p.sum(axis=1, keepdims=True)
        loss = float(-np.mean(np.log(p[np.arange(len(y)), y])))
        dz = p
        dz[np.arange(len(y)), y] -= 1
        dz /= dz.dtype.type(len(y))
        grads = [None] * len(self.params)
        for i in range(len(self.params) // 2 - 1, -1, -1):
            grads[2 * i] = acts[i].T @ dz
            grads[2 * i + 1] = dz.sum(axis=0)
            if i > 0:
                dz = (dz @ self.params[2 * i].T) * (acts[i] > 0)
        return loss, grads

    def step(self, x, y):
        _, grads = self.gradients(x, y)
        self.t += 1
        b1, b2 = self.beta1, self.beta2
        lr_t = self.lr * np.sqrt(1 - b2 ** self.t) / (1 - b1 ** self.t)
        for p_, g, m, v in zip(self.params, grads, self.m, self.v):
            m *= b1
            m += (1 - b1) * g
            v *= b2
            v += (1 - b2) * g * g
            p_ -= np.float32(lr_t) * m / (np.sqrt(v) + np.float32(self.eps))

    def train_epoch(self, x, y, batch_size):
        order = self.rng.permutation(len(x))
        for start in range(0, len(x), batch_size):
            idx = order[start:start + batch_size]
            self.step(x[idx], y[idx])

    def accuracy(self, x, y):
        logits, _ = self.forward(x)
        return float(np.mean(np.argmax(logits, axis=1) == y))
