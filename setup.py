"""Build of oncotrial's one compiled module (everything else is in pyproject.toml).

``oncotrial.stats._scan`` is the Kaplan-Meier + log-rank pass in Cython. It is optional:
where it cannot be compiled, oncotrial installs without it and runs the same computation in
numpy, more slowly (``oncotrial.stats.km_scan.COMPILED`` tells which one runs).
"""

import sys

from Cython.Build import cythonize
from setuptools import Extension, setup

# No contraction into fused multiply-adds: the compiled loop then rounds exactly as numpy;
# sqrt as one instruction (no errno: it only takes sums >= 0).
flags = [] if sys.platform == "win32" else ["-O3", "-ffp-contract=off", "-fno-math-errno"]

setup(
    ext_modules=cythonize(
        [
            Extension(
                "oncotrial.stats._scan",
                ["src/oncotrial/stats/_scan.pyx"],
                extra_compile_args=flags,
                optional=True,
            )
        ],
        language_level=3,
    )
)
