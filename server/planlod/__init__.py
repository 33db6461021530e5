"""planlod: publish, validate, query and link Japanese municipal plans as linked open data."""

__version__ = "0.1.0"
