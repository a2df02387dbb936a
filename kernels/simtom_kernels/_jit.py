"""JIT settings in one place: every kernel is compiled with these options."""

from __future__ import annotations

import numba

# cache=True: compiled machine code is stored beside the sources (or in NUMBA_CACHE_DIR), so only
# the first run on a machine pays compile time. fastmath stays off: results must not depend on
# how the compiler reassociates floating point, or the same seed would give different bytes.
jit = numba.njit(cache=True, nogil=True, fastmath=False)
# Helpers are ordinary compiled functions that LLVM links into the kernels; LLVM inlines the
# small ones (uniform, categorical ...) and calls the others.
helper = numba.njit(cache=True, nogil=True, fastmath=False)
# Helpers on the hottest paths are inlined by Numba itself: a call (Numba's calling convention,
# an error check after it) costs as much as their work. Measured: the id kernels twice as fast,
# the feature kernel 5-7 % faster with norm_ppf, normal, drifted and customer_of inlined. The
# big helpers stay calls (inlining all of them made compiling take minutes).
inline = numba.njit(cache=True, nogil=True, fastmath=False, inline="always")

# The one parallel setting: only an outer loop over independent chunks of a block runs in
# parallel, each thread writing its own slice, so results never depend on the thread count.
parallel = numba.njit(cache=True, nogil=True, fastmath=False, parallel=True)
