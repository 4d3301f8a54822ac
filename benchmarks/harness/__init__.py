"""Code shared by the experiment scripts in ``benchmarks/``: search runs over many seeds
(:mod:`~benchmarks.harness.runs`), their metrics (:mod:`~benchmarks.harness.metrics`) and
plots (:mod:`~benchmarks.harness.plots`), result files (:mod:`~benchmarks.harness.jsonio`,
:mod:`~benchmarks.harness.output`) and the scripts' thread limit
(:mod:`~benchmarks.harness.threads`)."""
