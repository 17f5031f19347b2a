"""The knowledge base: articles of a municipality or its region that staff answer from."""
