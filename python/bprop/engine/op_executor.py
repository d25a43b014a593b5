"""The op-by-op form of a step plan: the same kernel calls as the core plan,
one at a time from Python, through the model's backend.

On ``bprop.ops`` it gives the core plan's bits (the calls and their order are
the same); on ``bprop.reference`` it is the NumPy oracle.  It also runs what
the core cannot: a user's layer (through the GradientTape), metric or
optimizer.
"""
from __future__ import annotations

import math

import numpy as np

from .nodes import StepContext
from .objective import (empty_stats, loss_value_and_grad, metric_sums, predictions,
                        python_loss_value_and_grad)
from .plan import (STATUS_APPLIED, STATUS_LOSS_NOT_FINITE, STATUS_UPDATE_NOT_FINITE,
                   RunResult)

__all__ = ["OpExecutor"]


def _record_stats(all_stats, step_stats, s, steps):
    """Store step ``s``'s statistics vectors in ``all_stats``: one (steps, length)
    array per StatsMetric, made at its first step (None for the other metrics)."""
    for i, v in enumerate(step_stats):
        if v is not None:
            if all_stats[i] is None:
                all_stats[i] = np.zeros((steps, v.size))
            all_stats[i][s] = v


class OpExecutor:
    def __init__(self, plan):
        self.plan = plan
        self.be = plan.backend
        self._outputs = []
        self._grad_bufs = {}

    # ------------------------------------------------------------------ one pass
    def _forward(self, x, n, ctx, want_penalty=True):
        be = self.be
        h = x
        penalty = 0.0
        self._outputs = []
        for node in self.plan.nodes:
            h = node.forward(be, h, n, ctx)
            self._outputs.append(h)
            if want_penalty and node.activity != (0.0, 0.0):
                penalty += be.l1_l2_penalty(h, node.activity[0], node.activity[1])
        return h, penalty

    def _objective(self, y, n, labels, targets, row_weights, want_grad, penalty,
                   weight_penalties=True):
        plan = self.plan
        y2 = y.reshape(-1, plan.out_shape[-1] if plan.out_shape else 1)
        if labels is not None:
            t = labels.reshape(-1)
        else:  # a loss function's targets may have another shape than y (its own affair)
            t = targets.reshape(y2.shape) if targets.size == y2.size else targets
        grad = None
        if want_grad:
            grad = self._grad_bufs.get(y2.shape)
            if grad is None:
                grad = self._grad_bufs[y2.shape] = np.empty(y2.shape, dtype=plan.dtype)
        if plan.loss_kind == "python":  # a loss function of the user's, through the tape
            loss = python_loss_value_and_grad(plan.loss, y.reshape((n,) + plan.out_shape),
                                              targets, row_weights, grad)
        else:
            loss = loss_value_and_grad(self.be, plan.loss_kind, y2, t, row_weights, grad)
        if weight_penalties:
            penalty = self._weight_penalty(penalty)
        return loss + penalty, y2, t, grad

    def _weight_penalty(self, penalty=0.0):
        """``penalty`` plus every weight regularizer's, added in the core's order."""
        for var in self.plan.params:
            reg = self.plan.regularizers.get(var)
            if reg is not None:
                penalty += self.be.l1_l2_penalty(var.value, reg[0], reg[1])
        return penalty

    def _backward(self, dy, n, regularize=True):
        be, plan = self.be, self.plan
        dy = dy.reshape(n, -1)
        for i in range(len(plan.nodes) - 1, plan.first_trainable - 1, -1):
            node = plan.nodes[i]
            if node.activity != (0.0, 0.0):
                be.l1_l2_grad(self._outputs[i], dy, node.activity[0], node.activity[1])
            dy = node.backward(be, dy, n, i > plan.first_trainable)
        if regularize:
            self._regularize()

    def _regularize(self):
        be, plan = self.be, self.plan
        for var in plan.trainable:
            reg = plan.regularizers.get(var)
            if reg is not None:
                be.l1_l2_grad(var.value, self._grad_of(var), reg[0], reg[1])

    def _grad_of(self, var):
        for node in self.plan.nodes:
            g = node.grads.get(var)
            if g is not None:
                return g
        raise KeyError(var.name)

    def _update(self, lr, step):
        """Clip and apply, as Optimizer.apply_gradients does; True when every
        parameter and slot is still finite."""
        plan = self.plan
        opt = plan.optimizer
        pairs = opt._clip([(self._grad_of(v), v) for v in plan.trainable])
        finite = True
        for grad, var in pairs:
            slots = plan.slots[var]
            opt._update(self.be, var.value, grad, slots, lr, step)
            finite = finite and bool(np.isfinite(var.value).all()) and all(
                bool(np.isfinite(s).all()) for s in slots)
        return finite

    # ------------------------------------------------------------------ runs
    def _empty_stats(self):
        plan = self.plan
        return empty_stats(plan.metrics, plan.sparse,
                           plan.out_shape[-1] if plan.out_shape else 1, plan.dtype)

    def _batch(self, data, idx):
        plan = self.plan
        x = np.take(data.x, idx, axis=0)
        labels = None if data.labels is None else np.take(data.labels, idx, axis=0)
        targets = None if data.targets is None else np.take(data.targets, idx, axis=0)
        weights = None
        if data.sample_weight is not None:
            per = plan.out_size // plan.out_shape[-1] if plan.out_shape else 1
            weights = np.repeat(np.take(data.sample_weight, idx), per)
        return x, labels, targets, weights

    def _step(self, data, idx, train, lr, step, ctx, record=None):
        plan = self.plan
        n = idx.shape[0]
        x, labels, targets, weights = self._batch(data, idx)
        y, penalty = self._forward(x, n, ctx)
        loss, y2, t, grad = self._objective(y, n, labels, targets, weights, train, penalty)
        if record is not None:
            losses, sums, counts, stats, s = record
            losses[s] = loss
            if plan.metrics:
                preds = predictions(self.be, plan.predictions, y2)
                y_true = labels.reshape(y2.shape[:-1]) if labels is not None else t
                sums[s], counts[s], step_stats = metric_sums(plan.metrics, y_true, preds)
                _record_stats(stats, step_stats, s, losses.shape[0])
        if not train:
            return STATUS_APPLIED
        if not math.isfinite(loss):
            return STATUS_LOSS_NOT_FINITE
        if not plan.trainable:
            return STATUS_APPLIED
        self._backward(grad, n)
        return STATUS_APPLIED if self._update(lr, step) else STATUS_UPDATE_NOT_FINITE

    def _parallel_step(self, data, idx, global_rows, lr, step, ctx, allreduce, record=None):
        """A data-parallel step: this slice's part of the global batch's mean, then
        one reduction of the gradients, loss and metric sums (as the core plan)."""
        plan = self.plan
        n = idx.shape[0]
        m = len(plan.metrics)
        sums, counts = np.zeros(m), np.zeros(m)
        step_stats = [None] * m
        grads = [self._grad_of(v) for v in plan.trainable]
        part = 0.0
        if n:
            x, labels, targets, weights = self._batch(data, idx)
            y, penalty = self._forward(x, n, ctx)
            loss, y2, t, grad = self._objective(y, n, labels, targets, weights, True, 0.0,
                                                weight_penalties=False)
            scale = n / global_rows  # the local mean times n / N: its part of the global mean
            part = loss * scale + penalty
            grad *= grad.dtype.type(scale)
            if plan.metrics:
                preds = predictions(self.be, plan.predictions, y2)
                y_true = labels.reshape(y2.shape[:-1]) if labels is not None else t
                sums, counts, step_stats = metric_sums(plan.metrics, y_true, preds)
            if plan.trainable:
                self._backward(grad, n, regularize=False)
        else:
            # no rows here: zeros of the lengths the other processes' vectors have
            step_stats = self._empty_stats()
            for g in grads:
                g[...] = 0
        vectors = [v for v in step_stats if v is not None]
        flat = np.concatenate([g.reshape(-1) for g in grads]
                              + [np.array([part], plan.dtype), sums.astype(plan.dtype),
                                 counts.astype(plan.dtype)]
                              + [v.astype(plan.dtype) for v in vectors])
        allreduce(flat)
        pos = 0
        for g in grads:
            g.reshape(-1)[...] = flat[pos:pos + g.size]
            pos += g.size
        loss = float(flat[pos]) + self._weight_penalty()
        pos += 1
        if record is not None:
            losses, all_sums, all_counts, all_stats, s = record
            losses[s] = loss
            all_sums[s], all_counts[s] = flat[pos:pos + m], flat[pos + m:pos + 2 * m]
            pos += 2 * m
            for i, v in enumerate(step_stats):
                if v is not None:
                    step_stats[i] = flat[pos:pos + v.size].astype(np.float64)
                    pos += v.size
            _record_stats(all_stats, step_stats, s, losses.shape[0])
        if not math.isfinite(loss):
            return STATUS_LOSS_NOT_FINITE
        if not plan.trainable:
            return STATUS_APPLIED
        self._regularize()
        return STATUS_APPLIED if self._update(lr, step) else STATUS_UPDATE_NOT_FINITE

    def _snapshot(self):
        plan = self.plan
        return ([(v.value.copy(), [s.copy() for s in plan.slots[v]]) for v in plan.trainable],
                [v.value.copy() for v in plan.state])

    def _restore(self, saved):
        trainable, state = saved
        for var, (value, slots) in zip(self.plan.trainable, trainable):
            var.value[...] = value
            for live, old in zip(self.plan.slots[var], slots):
                live[...] = old
        for var, value in zip(self.plan.state, state):  # as the core plan restores them
            var.value[...] = value

    def run(self, data, rows, batch, train, lrs, iterations, dropout_counter, row_offset,
            parallel=None):
        plan = self.plan
        total = rows.shape[0]
        if parallel is not None:
            step_rows, step_offsets, step_global, allreduce = parallel
            starts = np.concatenate([[0], np.cumsum(step_rows)])
            steps = len(step_rows)
        else:
            steps = -(-total // batch)
        m = len(plan.metrics)
        losses = np.full(steps, np.nan)
        sums = np.zeros((steps, m))
        counts = np.zeros((steps, m))
        status = np.zeros(steps, dtype=np.int8)
        stats = [None] * m
        saved = self._snapshot() if train and (plan.trainable or plan.state) else None
        done = 0

        def step(s, record):
            lr = None if lrs is None else float(lrs[s])
            rec = (losses, sums, counts, stats, s) if record else None
            if parallel is not None:
                idx = rows[starts[s]:starts[s + 1]]
                ctx = StepContext(train, dropout_counter + s, int(step_offsets[s]))
                return self._parallel_step(data, idx, int(step_global[s]), lr, iterations + s + 1,
                                           ctx, allreduce, rec)
            idx = rows[s * batch:(s + 1) * batch]
            ctx = StepContext(train, dropout_counter + s, row_offset)
            return self._step(data, idx, train, lr, iterations + s + 1, ctx, rec)

        for s in range(steps):
            status[s] = step(s, True)
            if status[s] == STATUS_UPDATE_NOT_FINITE:
                self._restore(saved)
                for r in range(s):
                    step(r, False)
            if status[s] != STATUS_APPLIED:
                break
            done = s + 1
        return RunResult(losses, sums, counts, status, done,
                         stats if any(v is not None for v in stats) else None)

    def predict(self, x2, batch, out=None):
        plan = self.plan
        n = x2.shape[0]
        if out is None:
            out = np.empty((n, plan.out_size), dtype=plan.dtype)
        ctx = StepContext(False)
        for start in range(0, n, batch):
            stop = min(start + batch, n)
            y, _ = self._forward(x2[start:stop], stop - start, ctx, want_penalty=False)
            out[start:stop] = y
        return out

    def gradients(self, data, training, dropout_counter):
        plan = self.plan
        n = data.n
        weights = None
        if data.sample_weight is not None:
            per = plan.out_size // plan.out_shape[-1] if plan.out_shape else 1
            weights = np.repeat(data.sample_weight, per)
        y, penalty = self._forward(data.x, n, StepContext(training, dropout_counter))
        loss, _, _, grad = self._objective(y, n, data.labels, data.targets, weights, True,
                                           penalty)
        if math.isfinite(loss):
            self._backward(grad, n)
        return loss, [self._grad_of(v).copy() for v in plan.trainable]
