"""All I/O, one module per outside system. Heavy clients are imported lazily."""
