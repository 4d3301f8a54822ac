"""The experiments behind ``docs/`` and ``results/``: one script per experiment, run from a
checkout as ``python benchmarks/<name>.py ...`` (``--help`` for its options).

Not part of the installed package (``pip install nasopt`` ships ``nasopt/`` only) and never
imported by it: the objective tables the experiments run on are the library's
(:mod:`nasopt.benchmarks`), the code shared by the scripts (runs, metrics, plots, result
files) is :mod:`benchmarks.harness`. A script puts the repository root first on
``sys.path``, so it runs this checkout's ``nasopt``; the tests import the scripts as the
package ``benchmarks`` (``pythonpath = .`` in ``setup.cfg``).
"""
