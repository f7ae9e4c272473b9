"""aecourse: the shared Keras 3 helpers of the autoencoder course.

Importing the package selects the book's default backend, JAX, unless the
reader chose one (`aecourse.compat.choose_backend`), checks that Keras and its
backend are not older than the supported floor (`aecourse.compat.MINIMUM`) and
silences TensorFlow's C++ logging before any backend is loaded. Submodules are
imported explicitly (`from aecourse import data`).
"""

from aecourse.compat import check_versions as _check_versions
from aecourse.compat import choose_backend as _choose_backend
from aecourse.runtime import quiet_logs as _quiet_logs

_choose_backend()
_check_versions()
_quiet_logs()

__version__ = "0.1.0"
