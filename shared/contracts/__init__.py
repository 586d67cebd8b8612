"""What crosses a boundary: the event catalogue, schemas and their fast path, typed errors."""
