"""Running SPARQL safely: the parse check, fenced workers, lanes, time limits and results."""
