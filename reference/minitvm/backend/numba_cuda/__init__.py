"""The numba-CUDA target: TIR ``PrimFunc`` -> Python source -> ``numba.cuda.jit`` kernels.

``codegen`` writes the kernels (one per stage of the PrimFunc, each a grid-stride loop),
``intrinsics`` holds the device functions they call, ``build`` launches them. Only
``options`` is imported here, so that importing minitvm imports neither numba nor
numba-cuda. Kernels run on a GPU, or on numba's CUDA simulator when the environment sets
``NUMBA_ENABLE_CUDASIM=1`` before numba is imported.
"""

from minitvm.backend.numba_cuda import options
from minitvm.backend.numba_cuda.options import CudaOptions

__all__ = ["CudaOptions", "options"]
