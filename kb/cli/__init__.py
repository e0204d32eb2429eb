"""The ckb command line."""
