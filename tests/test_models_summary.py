"""summary() table and the progress output of evaluate / predict."""
from __future__ import annotations

import numpy as np
import pytest

import bprop
from bprop.layers import Dense, Dropout, Flatten


def issue_model():
    bprop.layers.base.clear_name_counters()
    return bprop.Sequential([
        Dense(64, activation="relu", input_shape=(784,)),
        Dense(64, activation="relu"),
        Dropout(0.5, trainable=False),
        Dense(10, activation="softmax"),
    ])


def test_summary_lists_layers_shapes_and_parameter_counts(capsys):
    model = issue_model()
    assert model.summary() is None
    text = capsys.readouterr().out
    lines = text.splitlines()
    assert lines[0] == 'Model: "sequential"'
    rows = [l.split() for l in lines if l.startswith(" dense") or l.startswith(" dropout")]
    assert rows == [["dense", "(Dense)", "(None,", "64)", "50,240"],
                    ["dense_1", "(Dense)", "(None,", "64)", "4,160"],
                    ["dropout", "(Dropout)", "(None,", "64)", "0"],
                    ["dense_2", "(Dense)", "(None,", "10)", "650"]]
    total = 784 * 64 + 64 + 64 * 64 + 64 + 64 * 10 + 10
    assert "Total params: 55,050 (215.04 KB)" in text and total == 55050
    assert "Trainable params: 55,050 (215.04 KB)" in text
    assert "Non-trainable params: 0 (0.00 B)" in text


def test_summary_print_fn_and_frozen_layers():
    model = bprop.Sequential([Flatten(input_shape=(2, 3)), Dense(4, trainable=False),
                              Dense(2)], dtype="float64")
    lines = []
    model.summary(print_fn=lines.append, line_length=80)
    assert any("(None, 6)" in l for l in lines)
    assert all(len(l) <= 80 for l in lines) and "_" * 80 in lines
    assert "Trainable params: 10 (80.00 B)" in lines
    assert "Non-trainable params: 28 (224.00 B)" in lines


def test_evaluate_and_predict_progress(capsys):
    model = issue_model()
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    x = np.zeros((40, 784), np.float32)
    y = np.zeros(40, np.int64)
    model.evaluate(x, y, batch_size=10)  # verbose="auto" -> a bar, as Keras
    out = capsys.readouterr().out
    assert "4/4" in out and "loss: " in out and "accuracy: 1.0000" in out
    model.predict(x, batch_size=10, verbose=2)
    assert capsys.readouterr().out.startswith("4/4 - ")
    model.predict(x, verbose=0)
    assert capsys.readouterr().out == ""
    with pytest.raises(ValueError, match="verbose: expected 'auto', 0, 1 or 2, got 'loud'"):
        model.predict(x, verbose="loud")
