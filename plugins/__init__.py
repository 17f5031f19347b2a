"""Bundled plugins: registered through the same ``fygitaal`` entry point as external ones."""
