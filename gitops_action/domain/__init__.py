"""Pure logic: no I/O, no clients. Everything here returns plans as data."""
