"""Argument checks and shape arithmetic shared by the image layers."""
from __future__ import annotations

import numbers

from ..reference._conv import geometry

__all__ = ["normalize_tuple", "normalize_padding", "check_data_format", "check_rank",
           "spatial_output"]


def normalize_tuple(value, rank, name, allow_zero=False):
    """An int or ``rank`` ints (each >= 1, or >= 0 when ``allow_zero``) as a tuple."""
    if isinstance(value, numbers.Integral) and not isinstance(value, bool):
        value = (value,) * rank
    try:
        value = tuple(value)
    except TypeError:
        raise TypeError("%s: expected an int or a tuple of %d ints, got %r"
                        % (name, rank, value)) from None
    low = 0 if allow_zero else 1
    if len(value) != rank or any(isinstance(v, bool) or not isinstance(v, numbers.Integral)
                                 or v < low for v in value):
        raise ValueError("%s: expected an int or a tuple of %d ints >= %d, got %r"
                         % (name, rank, low, value))
    return tuple(int(v) for v in value)


def normalize_padding(padding, layer_name):
    if isinstance(padding, str) and padding.lower() in ("valid", "same"):
        return padding.lower()
    if isinstance(padding, str) and padding.lower() == "causal":
        raise ValueError("padding: %s does not support 'causal' padding (only 'valid' or "
                         "'same')" % layer_name)
    raise ValueError("padding: expected 'valid' or 'same', got %r" % (padding,))


def check_data_format(data_format):
    if data_format not in (None, "channels_last"):
        raise ValueError("data_format: bprop supports only 'channels_last' (or None), got %r"
                         % (data_format,))


def check_rank(layer, input_shape, rank):
    """The per-sample shape must be rank spatial axes + channels, channels known."""
    shape = tuple(input_shape)
    if len(shape) != rank + 1 or shape[-1] is None:
        what = "(length, channels)" if rank == 1 else "(height, width, channels)"
        raise ValueError("x: layer %r (%s) expects samples %s, got shape %s"
                         % (layer.name, type(layer).__name__, what, (None,) + shape))
    return shape


def spatial_output(layer, sizes, window, strides, dilation, padding):
    """Output sizes of each spatial axis (None stays None); a window that does not
    fit a 'valid' input raises, naming the layer."""
    out = []
    for size, k, s, d in zip(sizes, window, strides, dilation):
        if size is None:
            out.append(None)
            continue
        o = geometry(int(size), k, s, d, padding == "same")[0]
        if o < 1:
            raise ValueError("x: layer %r: the window %s (dilation %s) does not fit in the input "
                             "%s with padding=%r" % (layer.name, tuple(window), tuple(dilation),
                                                     tuple(sizes), padding))
        out.append(o)
    return tuple(out)
