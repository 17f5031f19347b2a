"""The test kit: pytest fixtures for the core's tests and for plugin authors (``pytest11``)."""
