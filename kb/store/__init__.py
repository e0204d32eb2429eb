"""The stores: the embedded Oxigraph store, its life on disk, loading, and SPARQL servers."""
