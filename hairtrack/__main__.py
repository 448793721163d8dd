"""Allow ``python -m hairtrack``."""

from hairtrack.cli import main

if __name__ == "__main__":
    main()
