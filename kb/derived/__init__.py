"""Derived state, in a room of its own beside the store: the claim index (``claimindex``), read
into bitmaps (``bitmaps``), and what pages read kept until the next write (``memo``).

Nothing here is ever part of what SPARQL or an export answers: the claim index lives in a
sidecar (``sidecar``), not in the queryable dataset; deleting any of it costs only time.
"""
