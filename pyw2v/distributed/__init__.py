"""Training on a Dask cluster (``-scheduler``, ``-workers``): see docs/distributed.md.

Nothing here is imported by a single-process run; Dask is the optional
extra ``pip install -e ".[distributed]"``.
"""
