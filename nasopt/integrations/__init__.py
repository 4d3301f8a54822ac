"""Adapters that put nasopt inside other tools. Each needs an optional extra:

* :mod:`nasopt.integrations.optuna` — ``NASSampler``, an Optuna sampler
  (``pip install "nasopt[optuna]"``);
* :mod:`nasopt.integrations.ray` — ``NASSearch``, a Ray Tune searcher
  (``pip install "nasopt[ray]"``);
* Dask and other executors need no adapter: pass ``client.get_executor()`` to
  :func:`nasopt.driver.optimize` (``pip install "nasopt[dask]"`` for Dask itself).

Importing this package imports none of those tools; importing an adapter without its
dependency raises an :class:`ImportError` naming the extra to install.
"""

__all__: list[str] = []
