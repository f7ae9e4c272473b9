"""aecourse: the shared Keras 3 helpers of the autoencoder course.

Importing the package silences TensorFlow's C++ logging before any backend is
loaded. Submodules are imported explicitly (`from aecourse import data`).
"""

from aecourse.runtime import quiet_logs as _quiet_logs

_quiet_logs()

__version__ = "0.1.0"
