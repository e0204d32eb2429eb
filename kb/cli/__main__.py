"""python -m kb.cli runs the ckb command line."""

from kb.cli.main import main

if __name__ == "__main__":
    raise SystemExit(main())
