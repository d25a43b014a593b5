"""bprop's benchmark harness: bprop vs pure NumPy (and PyTorch when installed).

Run ``python -m benchmarks [--quick] [--only gemm,ops,training,memory] [--threads 1,2]
[--json PATH] [--plot PATH]`` from the repository root (or
``python benchmarks/run.py ...``).  Modules:

* :mod:`benchmarks.timing`: median-of-repeats timer with warm-up, thread limits;
* :mod:`benchmarks.bench_gemm`: GEMM GFLOP/s, fp32/fp64, NN/NT/TN;
* :mod:`benchmarks.bench_ops`: activations and their backward, GB/s;
* :mod:`benchmarks.bench_training`: seconds per epoch of Keras-style MLPs;
* :mod:`benchmarks.report`: Markdown tables, JSON, PNG chart;
* :mod:`benchmarks.run`: the command line.
"""
