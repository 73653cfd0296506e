"""Forensic search: attribute queries and similar-appearance ranking over every stored track.

query.py is the one validated query object (CLI, API and UI share it); index.py
the in-memory columnar index and vector search; engine.py runs a query against
the store; vigie/cli/search.py has the `vigie search` and `vigie similar` verbs.
"""
