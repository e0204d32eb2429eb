"""RDF out: deterministic serialisation in every format, and the pretty Turtle writer."""
