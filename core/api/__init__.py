"""Machine access: the OAuth2 token endpoint and the REST API (``/api/v1/<gemeente>/…``)."""
