# The nox sessions antsibull-nox.toml configures; `make test`'s lint stage runs them (`nox -s lint docs-check`).
# /// script
# dependencies = ["nox>=2025.02.09", "antsibull-nox"]
# ///

import sys

import nox

try:
    import antsibull_nox
except ImportError:
    print("antsibull-nox must be installed beside nox: bash scripts/setup puts both in .work/venv/tools.")
    sys.exit(1)

antsibull_nox.load_antsibull_nox_toml()

if __name__ == "__main__":
    nox.main()
