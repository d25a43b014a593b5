"""Pure-NumPy twins of every kernel in :mod:`bprop.ops`.

Same function names, same signatures, same semantics.  This module is the
oracle of the test-suite and the baseline of the benchmarks, and it is the
``backend="numpy"`` of the models.  It favours clarity over speed, but stays
vectorised so that "bprop vs pure NumPy" compares against honest NumPy.

Conventions shared with :mod:`bprop.ops`:

* float32 and float64 only; operands of one call share one dtype.
* ``out=`` (or ``dx=``, ``dw=``, ``db=``) receives the result when given and
  is returned; otherwise a new array is returned.
* Row-wise ops (softmax, log_softmax, the cross-entropies) work over the last
  axis of a 2-D array ``(batch, classes)``.
* Losses return the mean over the batch as a Python float; their
  ``*_backward`` returns the gradient of that mean.
"""
from __future__ import annotations

import math

import numpy as np

_SQRT_2_OVER_PI = math.sqrt(2.0 / math.pi)
_GELU_C = 0.044715

ACTIVATIONS = ("linear", "relu", "leaky_relu", "sigmoid", "tanh", "gelu", "softmax")


def _put(result, out):
    if out is None:
        return result
    out[...] = result
    return out


# --------------------------------------------------------------------------- GEMM
def matmul(a, b, out=None):
    """``a @ b`` for 2-D ``a`` (m, k) and ``b`` (k, n) -> (m, n)."""
    a = np.asarray(a)
    b = np.asarray(b)
    return _put(a @ b, out)


def gemm(a, b, c=None, alpha=1.0, beta=0.0, trans_a=False, trans_b=False):
    """``c = alpha * op(a) @ op(b) + beta * c``, op = transpose when asked.

    When ``c`` is None a new array is returned and ``beta`` is ignored;
    otherwise ``c`` is updated in place and returned.  ``beta == 0`` never
    reads ``c`` (NaN in ``c`` does not propagate), as in BLAS.
    """
    a = np.asarray(a)
    b = np.asarray(b)
    opa = a.T if trans_a else a
    opb = b.T if trans_b else b
    prod = opa @ opb
    if alpha != 1.0:
        prod = prod * prod.dtype.type(alpha)
    if c is None:
        return prod
    if beta == 0.0:
        c[...] = prod
    else:
        c[...] = prod + c.dtype.type(beta) * c
    return c


# --------------------------------------------------------------------------- bias
def add_bias(x, b, out=None):
    """``x + b`` with x (n, m) and b (m,)."""
    return _put(np.asarray(x) + np.asarray(b), out)


def bias_grad(dy, out=None):
    """Sum of ``dy`` (n, m) over the batch axis -> (m,)."""
    return _put(np.asarray(dy).sum(axis=0), out)


# --------------------------------------------------------------------------- activations
def relu(x, out=None):
    x = np.asarray(x)
    return _put(np.maximum(x, x.dtype.type(0)), out)


def relu_backward(dy, x, out=None):
    """Gradient of relu; ``x`` may be the input or the output (same sign)."""
    dy = np.asarray(dy)
    x = np.asarray(x)
    return _put(np.where(x > 0, dy, dy.dtype.type(0)), out)


def leaky_relu(x, alpha=0.2, out=None):
    x = np.asarray(x)
    return _put(np.where(x > 0, x, x * x.dtype.type(alpha)), out)


def leaky_relu_backward(dy, x, alpha=0.2, out=None):
    """Gradient of leaky_relu; ``x`` may be the input or the output (alpha >= 0)."""
    dy = np.asarray(dy)
    x = np.asarray(x)
    return _put(np.where(x > 0, dy, dy * dy.dtype.type(alpha)), out)


def sigmoid(x, out=None):
    """Logistic function, stable for large |x| (no overflow warnings)."""
    x = np.asarray(x)
    one = x.dtype.type(1)
    e = np.exp(-np.abs(x))
    return _put(np.where(x >= 0, one / (one + e), e / (one + e)), out)


def sigmoid_backward(dy, y, out=None):
    """Gradient of sigmoid from its *output* ``y``."""
    dy = np.asarray(dy)
    y = np.asarray(y)
    return _put(dy * y * (y.dtype.type(1) - y), out)


def tanh(x, out=None):
    return _put(np.tanh(np.asarray(x)), out)


def tanh_backward(dy, y, out=None):
    """Gradient of tanh from its *output* ``y``."""
    dy = np.asarray(dy)
    y = np.asarray(y)
    return _put(dy * (y.dtype.type(1) - y * y), out)


def gelu(x, out=None):
    """GELU, tanh approximation: 0.5 x (1 + tanh(u)), u = sqrt(2/pi) (x + 0.044715 x^3).

    Evaluated as x * sigmoid(2u) (the same function), which has no
    cancellation for large negative x.
    """
    x = np.asarray(x)
    t = x.dtype.type
    u = t(_SQRT_2_OVER_PI) * (x + t(_GELU_C) * x * x * x)
    return _put(x * sigmoid(t(2) * u), out)


def gelu_backward(dy, x, out=None):
    """Gradient of gelu (tanh approximation) from its *input* ``x``.

    With s = sigmoid(2u): d/dx [x s] = s + 2 x s (1 - s) du/dx.
    """
    dy = np.asarray(dy)
    x = np.asarray(x)
    t = x.dtype.type
    u = t(_SQRT_2_OVER_PI) * (x + t(_GELU_C) * x * x * x)
    s = sigmoid(t(2) * u)
    du = t(_SQRT_2_OVER_PI) * (t(1) + t(3 * _GELU_C) * x * x)
    return _put(dy * (s + t(2) * x * s * (t(1) - s) * du), out)


def softmax(x, out=None):
    """Softmax over the last axis of a 2-D array, stable for huge logits."""
    x = np.asarray(x)
    if x.shape[-1] == 0:
        return _put(np.empty_like(x), out)
    e = np.exp(x - x.max(axis=-1, keepdims=True))
    return _put(e / e.sum(axis=-1, keepdims=True), out)


def softmax_backward(dy, y, out=None):
    """Gradient of softmax from its *output* ``y``: y * (dy - sum(dy * y))."""
    dy = np.asarray(dy)
    y = np.asarray(y)
    return _put(y * (dy - (dy * y).sum(axis=-1, keepdims=True)), out)


def log_softmax(x, out=None):
    """Log-softmax over the last axis of a 2-D array, stable for huge logits."""
    x = np.asarray(x)
    if x.shape[-1] == 0:
        return _put(np.empty_like(x), out)
    s = x - x.max(axis=-1, keepdims=True)
    # The sum holds exp(0) = 1 for the max: log(sum) = log1p(sum of the other
    # terms) keeps its relative accuracy where that is tiny (log_softmax at the
    # max is then near 0, and log(sum) would be off by most of its digits).
    # (A row with a NaN keeps it: its argmax is the NaN, whose exp is not 1.)
    e = np.exp(s)
    if e.size:
        first_max = np.argmax(s, axis=-1)[..., None]
        at_max = np.take_along_axis(e, first_max, axis=-1)
        np.put_along_axis(e, first_max, np.where(at_max == 1, 0, at_max), axis=-1)
    return _put(s - np.log1p(e.sum(axis=-1, keepdims=True)), out)


def log_softmax_backward(dy, y, out=None):
    """Gradient of log_softmax from its *output* ``y``: dy - exp(y) * sum(dy)."""
    dy = np.asarray(dy)
    y = np.asarray(y)
    return _put(dy - np.exp(y) * dy.sum(axis=-1, keepdims=True), out)


_ACT_FORWARD = {
    "relu": relu,
    "leaky_relu": leaky_relu,
    "sigmoid": sigmoid,
    "tanh": tanh,
    "gelu": gelu,
    "softmax": softmax,
}
_ACT_BACKWARD = {
    "relu": relu_backward,
    "leaky_relu": leaky_relu_backward,
    "sigmoid": sigmoid_backward,
    "tanh": tanh_backward,
    "gelu": gelu_backward,
    "softmax": softmax_backward,
}


def _activation_name(activation):
    name = "linear" if activation is None else activation
    if name not in ACTIVATIONS:
        raise ValueError(
            "activation: expected one of %s or None, got %r" % (", ".join(ACTIVATIONS), activation)
        )
    return name


# --------------------------------------------------------------------------- losses
def _check_labels(labels, n, classes):
    labels = np.asarray(labels)
    if labels.shape != (n,):
        raise ValueError("labels: expected shape (%d,), got %s" % (n, labels.shape))
    if labels.size and (labels.min() < 0 or labels.max() >= classes):
        raise ValueError(
            "labels: expected integers in [0, %d), got values in [%d, %d]"
            % (classes, labels.min(), labels.max())
        )
    return labels.astype(np.intp, copy=False)


def _targets_as_probabilities(logits, labels):
    """Integer labels -> one-hot rows; float targets pass through."""
    labels = np.asarray(labels)
    if labels.dtype.kind in "iu":
        idx = _check_labels(labels, logits.shape[0], logits.shape[1])
        onehot = np.zeros_like(logits)
        onehot[np.arange(logits.shape[0]), idx] = 1
        return onehot
    return labels


def mse(y_pred, y_true):
    """Mean squared error over all elements (Keras: mean over the last axis, then the batch)."""
    y_pred = np.asarray(y_pred)
    y_true = np.asarray(y_true)
    if y_pred.size == 0:
        return 0.0
    d = y_pred - y_true
    return float(np.mean(d * d))


def mse_backward(y_pred, y_true, out=None):
    y_pred = np.asarray(y_pred)
    y_true = np.asarray(y_true)
    n = max(y_pred.size, 1)
    return _put((y_pred - y_true) * y_pred.dtype.type(2.0 / n), out)


def softmax_cross_entropy(logits, labels):
    """Mean over the batch of -log softmax(logits)[target].

    ``labels`` is either integer class indices of shape (n,) (sparse) or
    float targets (one-hot or probabilities) of the logits' shape.
    """
    logits = np.asarray(logits)
    n = logits.shape[0]
    if n == 0:
        return 0.0
    target = _targets_as_probabilities(logits, labels)
    return float(-(target * log_softmax(logits)).sum() / n)


def softmax_cross_entropy_backward(logits, labels, out=None):
    """Gradient wrt the logits: (softmax(logits) - target) / n."""
    logits = np.asarray(logits)
    n = max(logits.shape[0], 1)
    target = _targets_as_probabilities(logits, labels)
    return _put((softmax(logits) - target) * logits.dtype.type(1.0 / n), out)


def binary_cross_entropy(logits, targets):
    """Mean over all elements of the logistic loss from logits (stable)."""
    z = np.asarray(logits)
    t = np.asarray(targets)
    if z.size == 0:
        return 0.0
    loss = np.maximum(z, 0) - z * t + np.log1p(np.exp(-np.abs(z)))
    return float(loss.mean())


def binary_cross_entropy_backward(logits, targets, out=None):
    """Gradient wrt the logits: (sigmoid(z) - t) / size."""
    z = np.asarray(logits)
    t = np.asarray(targets)
    n = max(z.size, 1)
    return _put((sigmoid(z) - t) * z.dtype.type(1.0 / n), out)


# --------------------------------------------------------------------------- fused dense layer
def dense_forward(x, w, b=None, activation=None, out=None):
    """``act(x @ w + b)`` for x (n, k), w (k, m), b (m,) or None.

    activation: None/"linear", "relu", "leaky_relu" (alpha 0.2), "sigmoid",
    "tanh", "gelu" or "softmax".
    """
    name = _activation_name(activation)
    z = np.asarray(x) @ np.asarray(w)
    if b is not None:
        z = z + np.asarray(b)
    if name != "linear":
        z = _ACT_FORWARD[name](z)
    return _put(z, out)


def dense_backward(dy, x, w, z_or_y=None, activation=None, dx=None, dw=None, db=None,
                   need_dx=True):
    """Backward of :func:`dense_forward`; returns ``(dx, dw, db)``.

    ``z_or_y`` is the activation's *output* for relu, leaky_relu, sigmoid,
    tanh and softmax, its *input* (pre-activation) for gelu, and is ignored
    for linear.  ``dx`` is None when ``need_dx`` is False (first layer).
    """
    name = _activation_name(activation)
    dy = np.asarray(dy)
    if name == "linear":
        dz = dy
    else:
        if z_or_y is None:
            raise ValueError("z_or_y: required for activation %r, got None" % name)
        dz = _ACT_BACKWARD[name](dy, np.asarray(z_or_y))
    x = np.asarray(x)
    w = np.asarray(w)
    dw_v = _put(x.T @ dz, dw)
    db_v = _put(dz.sum(axis=0), db)
    dx_v = _put(dz @ w.T, dx) if need_dx else None
    return dx_v, dw_v, db_v


# --------------------------------------------------------------------------- optimizer updates (in place)
def sgd_update(param, grad, lr, momentum=0.0, nesterov=False, velocity=None):
    """Keras SGD: v = m v - lr g; p += v (nesterov: p += m v - lr g).

    With momentum 0, ``p -= lr g`` and ``velocity`` may be None.
    """
    t = param.dtype.type
    if momentum == 0.0:
        param -= t(lr) * grad
        return param
    velocity *= t(momentum)
    velocity -= t(lr) * grad
    if nesterov:
        param += t(momentum) * velocity - t(lr) * grad
    else:
        param += velocity
    return param


def rmsprop_update(param, grad, sq_avg, lr, rho=0.9, eps=1e-7):
    """Keras RMSprop: s = rho s + (1 - rho) g^2; p -= lr g / sqrt(s + eps)."""
    t = param.dtype.type
    sq_avg *= t(rho)
    sq_avg += t(1 - rho) * grad * grad
    param -= t(lr) * grad / np.sqrt(sq_avg + t(eps))
    return param


def adam_update(param, grad, m, v, lr, step, beta1=0.9, beta2=0.999, eps=1e-7,
                weight_decay=0.0):
    """Keras Adam (``step`` counts from 1), with decoupled weight decay (AdamW).

    p -= lr * wd * p (when wd > 0); m += (g - m)(1 - b1); v += (g^2 - v)(1 - b2);
    p -= lr_t * m / (sqrt(v) + eps) with lr_t = lr sqrt(1 - b2^t) / (1 - b1^t).
    """
    t = param.dtype.type
    if weight_decay:
        param -= t(lr * weight_decay) * param
    m += (grad - m) * t(1 - beta1)
    v += (grad * grad - v) * t(1 - beta2)
    lr_t = lr * math.sqrt(1 - beta2 ** step) / (1 - beta1 ** step)
    param -= t(lr_t) * m / (np.sqrt(v) + t(eps))
    return param


def adagrad_update(param, grad, accum, lr, eps=1e-7):
    """Keras Adagrad: a += g^2; p -= lr g / sqrt(a + eps)."""
    t = param.dtype.type
    accum += grad * grad
    param -= t(lr) * grad / np.sqrt(accum + t(eps))
    return param


# --------------------------------------------------------------------------- a whole training step
def dense_softmax_xent_train_step(x, labels, weights, biases, activations, outputs, input_grads,
                                  weight_grads, bias_grads, dlogits, optimizer, lr, step=1.0,
                                  beta1=0.9, beta2=0.999, eps=1e-7, weight_decay=0.0,
                                  momentum=0.0, nesterov=False, slots=[],  # noqa: B006 (never mutated)
                                  rows=None):
    """One training step of dense layers ending in softmax cross-entropy (sparse labels).

    Forward ``outputs[l] = act_l(x_l @ weights[l] + biases[l])`` (the last
    layer's activation is ignored: its output is the logits), the loss and
    its gradient into ``dlogits``, backward into ``input_grads[l]`` (l > 0),
    ``weight_grads[l]``, ``bias_grads[l]``, then the ``"adam"`` or ``"sgd"``
    update of every parameter in place (slots in variable order: kernel,
    bias per layer; adam m, v; sgd with momentum its velocity).  Returns
    ``(loss, correct, updated)``: nothing is updated when the loss is not
    finite; ``correct`` counts rows whose softmax argmax is the label.
    ``rows``: when given, the batch is ``x[rows]`` with ``labels[rows]``
    (x and labels are then the whole data set).
    """
    if optimizer not in ("adam", "sgd"):
        raise ValueError("optimizer: expected 'adam' or 'sgd', got %r" % (optimizer,))
    if rows is not None:
        rows = np.asarray(rows)
        if rows.dtype.kind not in "iu":
            raise TypeError("rows: expected integer row indices, got %s" % rows.dtype)
        if rows.ndim != 1:
            raise ValueError("rows: expected a 1-D array, got shape %s" % (rows.shape,))
        n_all = np.asarray(x).shape[0]
        bad = np.flatnonzero((rows < 0) | (rows >= n_all))
        if bad.size:
            raise ValueError("rows: expected row indices in [0, %d) (the rows of x), got %d at "
                             "index %d" % (n_all, rows[bad[0]], bad[0]))
        x = np.take(np.asarray(x), rows, axis=0)
        labels = np.asarray(labels)[rows]
    count = len(weights)
    layer_in = np.asarray(x)
    for l in range(count):
        act = None if l == count - 1 else activations[l]
        dense_forward(layer_in, weights[l], biases[l], act, out=outputs[l])
        layer_in = outputs[l]
    logits = outputs[-1]
    softmax_cross_entropy_backward(logits, labels, out=dlogits)
    loss = softmax_cross_entropy(logits, labels)
    correct = int(np.count_nonzero(np.argmax(softmax(logits), axis=1) == np.asarray(labels)))
    if not math.isfinite(loss):
        return loss, correct, False
    dy = dlogits
    for l in reversed(range(count)):
        act = None if l == count - 1 else activations[l]
        inp = np.asarray(x) if l == 0 else outputs[l - 1]
        dense_backward(dy, inp, weights[l], None if act in (None, "linear") else outputs[l], act,
                       dx=None if l == 0 else input_grads[l], dw=weight_grads[l],
                       db=bias_grads[l], need_dx=l > 0)
        dy = input_grads[l]
    slot_iter = iter(slots)
    per_param = 2 if optimizer == "adam" else (1 if momentum else 0)
    for l in range(count):
        pairs = [(weights[l], weight_grads[l])]
        if biases[l] is not None:
            pairs.append((biases[l], bias_grads[l]))
        for param, grad in pairs:
            s = [next(slot_iter) for _ in range(per_param)]
            if optimizer == "adam":
                adam_update(param, grad, s[0], s[1], lr, step, beta1, beta2, eps, weight_decay)
            else:
                sgd_update(param, grad, lr, momentum, nesterov, s[0] if s else None)
    return loss, correct, True


def dense_softmax_xent_train_steps(x, labels, rows, batch_size, weights, biases, activations,
                                   outputs, input_grads, weight_grads, bias_grads, dlogits,
                                   optimizer, lrs, first_step=1.0, beta1=0.9, beta2=0.999,
                                   eps=1e-7, weight_decay=0.0, momentum=0.0, nesterov=False,
                                   slots=[]):  # noqa: B006 (never mutated)
    """Consecutive :func:`dense_softmax_xent_train_step` calls: step ``s`` trains on
    ``x[rows[s * batch_size:(s + 1) * batch_size]]`` (the last batch may be
    shorter) with learning rate ``lrs[s]`` and Adam's count ``first_step + s``;
    the batch buffers have ``batch_size`` rows (fewer when ``rows`` is
    shorter).  Stops before the update of the first step whose loss is not
    finite.  Returns ``(losses, correct, done)``: float64 and int64 arrays with
    one entry per step (NaN / 0 past a stop) and the number of steps applied.
    """
    if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)):
        raise TypeError("batch_size: expected an int, got %s" % type(batch_size).__name__)
    if batch_size < 1:
        raise ValueError("batch_size: expected an int >= 1, got %d" % batch_size)
    rows = np.asarray(rows)
    if rows.dtype.kind not in "iu":
        raise TypeError("rows: expected integer row indices, got %s" % rows.dtype)
    if rows.ndim != 1:
        raise ValueError("rows: expected a 1-D array, got shape %s" % (rows.shape,))
    total = rows.shape[0]
    bad = np.flatnonzero((rows < 0) | (rows >= np.asarray(x).shape[0]))
    if bad.size:
        raise ValueError("rows: expected row indices in [0, %d) (the rows of x), got %d at "
                         "index %d" % (np.asarray(x).shape[0], rows[bad[0]], bad[0]))
    steps = -(-total // batch_size)
    lrs = np.asarray(lrs, dtype=np.float64)
    if lrs.ndim != 1:
        raise ValueError("lrs: expected a 1-D array, got shape %s" % (lrs.shape,))
    if lrs.shape[0] != steps:
        raise ValueError("lrs: expected %d learning rates (one per step of %d of the %d rows), "
                         "got %d" % (steps, batch_size, total, lrs.shape[0]))
    bad = np.flatnonzero(~(lrs >= 0))
    if bad.size:
        raise ValueError("lrs: expected learning rates >= 0, got %r at index %d"
                         % (float(lrs[bad[0]]), bad[0]))
    losses = np.full(steps, np.nan)
    correct = np.zeros(steps, dtype=np.int64)
    done = 0
    for s in range(steps):
        part = rows[s * batch_size:(s + 1) * batch_size]
        n = part.shape[0]
        loss, right, updated = dense_softmax_xent_train_step(
            x, labels, weights, biases, activations, [o[:n] for o in outputs],
            [g[:n] for g in input_grads], weight_grads, bias_grads, dlogits[:n], optimizer,
            float(lrs[s]), first_step + s, beta1, beta2, eps, weight_decay, momentum, nesterov,
            slots, rows=part)
        losses[s], correct[s] = loss, right
        if not updated:
            break
        done = s + 1
    return losses, correct, done
