"""``Sequential.summary()`` text: layers, output shapes, parameter counts (Keras' layout)."""
from __future__ import annotations

__all__ = ["format_summary"]


def _human_bytes(n):
    units = ["B", "KB", "MB", "GB", "TB"]
    value = float(n)
    unit = 0
    while value >= 1024 and unit < len(units) - 1:
        value /= 1024.0
        unit += 1
    return "%.2f %s" % (value, units[unit])


def _shape_str(shape):
    return "(" + ", ".join("None" if d is None else str(d) for d in shape) + (
        ",)" if len(shape) == 1 else ")")


def format_summary(model, line_length=None):
    """The summary table of a built ``model`` as one string (ValueError if not built)."""
    if not model.built or model._sample_shape is None:
        raise ValueError("model %r has not been built yet: give the first layer input_shape, "
                         "call build((None, ...)), or fit/predict on data first" % model.name)
    width = max(int(line_length or 65), 40)
    cols = [int(width * 0.45), int(width * 0.85), width]
    rows = [(name, shape if isinstance(shape, str) else _shape_str(shape), params)
            for name, shape, params in model._summary_rows()]

    def line(fields):
        """One table row; a field wider than its column continues on the next
        lines (as Keras 2.9+ prints "max_pooling2d (MaxPooling2D" / ")")."""
        starts = [0] + cols[:-1]
        widths = [stop - start - 1 for start, stop in zip(starts, cols)]
        chunks = [[f[i:i + w] for i in range(0, max(len(f), 1), w)] for f, w in zip(fields, widths)]
        texts = []
        for k in range(max(len(c) for c in chunks)):
            text = ""
            for part, stop in zip(chunks, cols):
                text = (text + " " + (part[k] if k < len(part) else "")).ljust(stop)
            texts.append(text.rstrip())
        return "\n".join(texts)

    itemsize = model._dtype.itemsize
    trainable = sum(v.size for v in model.trainable_variables)
    total = model.count_params()
    out = ['Model: "%s"' % model.name, "_" * width,
           line(("Layer (type)", "Output Shape", "Param #")), "=" * width]
    for i, row in enumerate(rows):
        out.append(line(row))
        if i != len(rows) - 1:
            out.append("")
    out.append("=" * width)
    out.append("Total params: {:,} ({})".format(total, _human_bytes(total * itemsize)))
    out.append("Trainable params: {:,} ({})".format(trainable,
                                                      _human_bytes(trainable * itemsize)))
    out.append("Non-trainable params: {:,} ({})".format(
        total - trainable, _human_bytes((total - trainable) * itemsize)))
    out.append("_" * width)
    return "\n".join(out)
