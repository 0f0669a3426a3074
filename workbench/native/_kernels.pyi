# Type stub of the compiled extension workbench.native._kernels (built from _kernels.c by
# setup.py).  Python never calls into it directly: kernels.py loads the shared library's file
# (the module's ``__file__``) with ctypes and declares each C function's signature there.
