"""Training on a Dask cluster (issue 27): the workers read, count and encode the corpus themselves."""
