"""Predictor benchmark (Kendall τ / Spearman ρ by training size): see
:mod:`nasopt.benchmarks.predictor_bench`. Same as ``nasopt bench predictors``."""

from nasopt.benchmarks.predictor_bench import main

if __name__ == "__main__":
    raise SystemExit(main())
