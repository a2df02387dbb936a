"""JIT settings in one place: every kernel is compiled with these options."""

from __future__ import annotations

import numba

# cache=True: compiled machine code is stored beside the sources (or in NUMBA_CACHE_DIR), so only
# the first run on a machine pays compile time. fastmath stays off: results must not depend on
# how the compiler reassociates floating point, or the same seed would give different bytes.
jit = numba.njit(cache=True, nogil=True, fastmath=False)
# Helpers are ordinary compiled functions that LLVM links into the kernels (Numba-level
# inline="always" made the feature kernel take minutes to compile for no speed gain).
helper = numba.njit(cache=True, nogil=True, fastmath=False)

# The one parallel setting: only an outer loop over independent chunks of a block runs in
# parallel, each thread writing its own slice, so results never depend on the thread count.
parallel = numba.njit(cache=True, nogil=True, fastmath=False, parallel=True)
# Small helpers of the id kernels are inlined by Numba itself: the per-id work is a few dozen
# instructions, and a call (Numba's calling convention, an error check after it) would double it.
inline = numba.njit(cache=True, nogil=True, fastmath=False, inline="always")
