"""The transactional outbox: notifications written with the change, delivered by the worker."""
