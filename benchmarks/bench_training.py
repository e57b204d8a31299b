"""How much faster is vae_lib.fit than the classic DataLoader training loop?

The benchmark lives in ``vae_lib.bench`` (so that the results chapter can run
it in Colab too); this script is its command line. See benchmarks/README.md.

Usage:  .venv/bin/python benchmarks/bench_training.py [--help]
"""

from vae_lib.bench import main

if __name__ == "__main__":
    main()
