"""Build step of the compiled kernels; everything else about the package is in pyproject.toml.

``workbench/native/_kernels.c`` is compiled with the machine's C compiler into
``workbench.native._kernels`` (loaded with ctypes by ``workbench/native/kernels.py``).  The
extension is optional: without a compiler the install still succeeds and the package uses its slower
pure Python paths.
"""

from setuptools import Extension, setup

setup(
    ext_modules=[
        Extension(
            "workbench.native._kernels",
            sources=["workbench/native/_kernels.c"],
            extra_compile_args=["-O3"],
            optional=True,
        )
    ]
)
