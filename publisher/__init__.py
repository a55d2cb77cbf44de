"""jobpub: publish job postings to many job boards from one canonical posting file."""

__version__ = "0.1.0"
