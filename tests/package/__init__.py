"""The package as it ships: the wheel's files, its types, the oldest Python it declares."""
