"""Memory access and value writers of the JSON-lines kernel (``jsonl.py``).

``peek`` / ``poke`` read and write numbers at raw addresses (the Arrow buffers and the output
buffer); the ``put_*`` helpers write one JSON value (integer, float, string, date, time) at an
address and return the bytes written; ``read_*`` read one value of a given byte width.
Under ``NUMBA_DISABLE_JIT=1`` the intrinsics fall back to numpy views of the addresses.
"""

from __future__ import annotations

import math

import numba
import numpy as np
from numba import types
from numba.extending import intrinsic

from ._jit import helper

US_PER_DAY = 86_400_000_000
ONES = 0x0101010101010101
HIGHS = 0x8080808080808080


@intrinsic
def peek(typingctx, address, kind):  # type: ignore[no-untyped-def]
    """The value of number class ``kind`` (``np.int64``, ``np.uint8``...) stored at ``address``.

    Unaligned: string bytes and views can start anywhere.
    """
    value_type = kind.instance_type
    sig = value_type(types.int64, kind)

    def codegen(context, builder, signature, args):  # type: ignore[no-untyped-def]
        pointer = builder.inttoptr(args[0], context.get_value_type(value_type).as_pointer())
        return builder.load(pointer, align=1)

    return sig, codegen


@intrinsic
def poke(typingctx, address, value, kind):  # type: ignore[no-untyped-def]
    """Store ``value`` converted to number class ``kind`` at ``address`` (unaligned)."""
    value_type = kind.instance_type
    sig = types.void(types.int64, value_type, kind)

    def codegen(context, builder, signature, args):  # type: ignore[no-untyped-def]
        pointer = builder.inttoptr(args[0], context.get_value_type(value_type).as_pointer())
        builder.store(args[1], pointer, align=1)
        return context.get_dummy_value()

    return sig, codegen


if numba.config.DISABLE_JIT:  # pragma: no cover - kernels run as Python (coverage runs)

    class _Memory:
        """``size`` bytes at ``address``, for numpy (the array interface takes a raw address)."""

        def __init__(self, address, size):  # type: ignore[no-untyped-def]
            self.__array_interface__ = {"data": (int(address), False), "shape": (size,),
                                        "typestr": "|u1", "version": 3}

    def peek(address, kind):  # type: ignore[no-untyped-def]
        size = np.dtype(kind).itemsize
        return np.asarray(_Memory(address, size)).view(kind)[0]

    def poke(address, value, kind):  # type: ignore[no-untyped-def]
        size = np.dtype(kind).itemsize
        np.asarray(_Memory(address, size)).view(kind)[0] = value


@helper
def digit_pairs():  # type: ignore[no-untyped-def]
    """The 200 bytes ``00 01 .. 99``: two decimal digits per lookup."""
    table = np.empty(200, np.uint8)
    for k in range(100):
        table[2 * k] = 48 + k // 10
        table[2 * k + 1] = 48 + k % 10
    return table


@helper
def copy(dst, src, n):  # type: ignore[no-untyped-def]
    """Copy ``n`` bytes from ``src`` to ``dst``; return ``dst + n``.

    Eight bytes per load and store; the last (partial) word is the overlapping one that ends
    at ``n``, so no byte outside either range is read or written.
    """
    if n >= 8:
        j = 0
        while j + 8 < n:
            poke(dst + j, peek(src + j, np.uint64), np.uint64)
            j += 8
        poke(dst + n - 8, peek(src + n - 8, np.uint64), np.uint64)
    elif n >= 4:
        poke(dst, peek(src, np.uint32), np.uint32)
        poke(dst + n - 4, peek(src + n - 4, np.uint32), np.uint32)
    elif n >= 2:
        poke(dst, peek(src, np.uint16), np.uint16)
        poke(dst + n - 2, peek(src + n - 2, np.uint16), np.uint16)
    elif n == 1:
        poke(dst, peek(src, np.uint8), np.uint8)
    return dst + n


@helper
def copy_padded(dst, src, n):  # type: ignore[no-untyped-def]
    """Copy ``n`` bytes from a table with ``PAD`` bytes of padding; return ``dst + n``.

    Whole words, so up to 16 bytes past the end are read and written (the output keeps room).
    """
    poke(dst, peek(src, np.uint64), np.uint64)
    poke(dst + 8, peek(src + 8, np.uint64), np.uint64)
    for j in range(16, n, 8):
        poke(dst + j, peek(src + j, np.uint64), np.uint64)
    return dst + n


@helper
def put_null(dst):  # type: ignore[no-untyped-def]
    poke(dst, 0x6C6C756E, np.uint32)  # "null", little-endian
    return dst + 4


@helper
def pair(v, dig):  # type: ignore[no-untyped-def]
    """The two digits of ``v`` (0 <= v < 100) as a little-endian uint64 (first digit low)."""
    return np.uint64(peek(dig + 2 * v, np.uint16))


@helper
def put_small(dst, v, dig):  # type: ignore[no-untyped-def]
    """Write the decimal digits of ``v`` (0 <= v < 10^8), built in a register, one store."""
    word = np.uint64(0)
    n = 0
    while v >= 100:
        q = v // 100
        word = (word << np.uint64(16)) | pair(v - 100 * q, dig)
        n += 2
        v = q
    if v >= 10:
        word = (word << np.uint64(16)) | pair(v, dig)
        n += 2
    else:
        word = (word << np.uint64(8)) | np.uint64(48 + v)
        n += 1
    poke(dst, word, np.uint64)
    return dst + n


@helper
def put_eight(dst, v, dig):  # type: ignore[no-untyped-def]
    """Write ``v`` (0 <= v < 10^8) as exactly eight digits."""
    high = v // 10000
    low = v - 10000 * high
    word = (pair(high // 100, dig) | (pair(high % 100, dig) << np.uint64(16))
            | (pair(low // 100, dig) << np.uint64(32)) | (pair(low % 100, dig) << np.uint64(48)))
    poke(dst, word, np.uint64)
    return dst + 8


@helper
def put_digits(dst, v, dig):  # type: ignore[no-untyped-def]
    """Write the decimal digits of ``v`` (0 <= v, int64)."""
    if v < 100_000_000:
        return put_small(dst, v, dig)
    high = v // 100_000_000
    low = v - 100_000_000 * high
    if high < 100_000_000:
        dst = put_small(dst, high, dig)
    else:
        top = high // 100_000_000
        dst = put_eight(put_small(dst, top, dig), high - 100_000_000 * top, dig)
    return put_eight(dst, low, dig)


@helper
def put_int(dst, v, dig):  # type: ignore[no-untyped-def]
    """Write the decimal digits of ``v`` (int64), with a minus sign if negative."""
    if v < 0:
        poke(dst, 45, np.uint8)
        dst += 1
        if v == -9223372036854775807 - 1:
            return put_uint(dst, np.uint64(9223372036854775808), dig)
        v = -v
    return put_digits(dst, v, dig)


@helper
def put_uint(dst, u, dig):  # type: ignore[no-untyped-def]
    """Write the decimal digits of ``u`` (uint64)."""
    if u < np.uint64(9223372036854775808):
        return put_digits(dst, np.int64(u), dig)
    high = np.int64(u // np.uint64(100_000_000))
    return put_eight(put_digits(dst, high, dig),
                     np.int64(u - np.uint64(high) * np.uint64(100_000_000)), dig)


@helper
def put_pair(dst, v, dig):  # type: ignore[no-untyped-def]
    """Write ``v`` (0 <= v < 100) as two digits."""
    poke(dst, peek(dig + 2 * v, np.uint16), np.uint16)
    return dst + 2


@helper
def float_fast(x):  # type: ignore[no-untyped-def]
    """(k, d) with |x| = k / 10^d for the fast form of ``x``, or (-1, 0) if it has none.

    ``x`` has a fast form when it equals k / 10^d for an integer k below 10^15 and d = 4 (d = 2
    from 1e11, d = 0 from 1e13, none from 1e15). Then the decimal k·10^-d and ``x`` are the
    correctly rounded values of one rational, so the text parses back to ``x`` exactly; and
    decimals of at most 15 significant digits round to distinct doubles, so no shorter text
    does: it is the one Python's ``repr`` writes.
    """
    ax = abs(x)
    if ax < 1e11:
        scale = 1e4
        d = 4
    elif ax < 1e13:
        scale = 1e2
        d = 2
    elif ax < 1e15:
        scale = 1.0
        d = 0
    else:
        return np.int64(-1), 0
    k = math.floor(ax * scale + 0.5)
    if k / scale != ax:
        return np.int64(-1), 0
    return np.int64(k), d


@helper
def put_float(dst, x, k, d, dig):  # type: ignore[no-untyped-def]
    """Write ``x`` = ±k / 10^d as Python's repr does: at least one decimal, no trailing zeros."""
    if x < 0.0 or (x == 0.0 and math.copysign(1.0, x) < 0.0):
        poke(dst, 45, np.uint8)
        dst += 1
    if d == 4 and k % 100 == 0:
        k //= 100
        d = 2
    while d > 0 and k % 10 == 0:
        k //= 10
        d -= 1
    # the point and the d decimals, built in a register (first byte lowest)
    if d == 0:
        whole = k
        tail = np.uint64(0x302E)  # .0
        d = 1
    elif d == 1:
        whole = k // 10
        tail = np.uint64(0x2E) | (np.uint64(48 + k - 10 * whole) << np.uint64(8))
    elif d == 2:
        whole = k // 100
        tail = np.uint64(0x2E) | (pair(k - 100 * whole, dig) << np.uint64(8))
    elif d == 3:
        whole = k // 1000
        frac = k - 1000 * whole
        tail = (np.uint64(0x2E) | (pair(frac // 10, dig) << np.uint64(8))
                | (np.uint64(48 + frac % 10) << np.uint64(24)))
    else:
        whole = k // 10000
        frac = k - 10000 * whole
        tail = (np.uint64(0x2E) | (pair(frac // 100, dig) << np.uint64(8))
                | (pair(frac % 100, dig) << np.uint64(24)))
    dst = put_digits(dst, whole, dig)
    poke(dst, tail, np.uint64)
    return dst + 1 + d


@helper
def specials(w):  # type: ignore[no-untyped-def]
    """A word with the high bit set in (at least) the lowest byte of ``w`` that needs escaping
    (below 0x20, ``"`` or ``\\``), and 0 if none does. Bytes above a flagged one may be
    flagged too (borrows), so masking off high bytes keeps the answer exact for the others."""
    ones = np.uint64(ONES)
    quote = w ^ np.uint64(0x2222222222222222)
    slash = w ^ np.uint64(0x5C5C5C5C5C5C5C5C)
    return (((w - np.uint64(0x2020202020202020)) & ~w) | ((quote - ones) & ~quote)
            | ((slash - ones) & ~slash)) & np.uint64(HIGHS)


@helper
def low_bytes(n):  # type: ignore[no-untyped-def]
    """A mask of the ``n`` low bytes of a word (0 <= n <= 8)."""
    if n >= 8:
        return np.uint64(0xFFFFFFFFFFFFFFFF)
    return (np.uint64(1) << np.uint64(8 * n)) - np.uint64(1)


@helper
def put_text(dst, src, n, inline):  # type: ignore[no-untyped-def]
    """Write the ``n`` bytes at ``src`` as a JSON string, quotes included.

    Whole words while no byte needs escaping (``specials``). ``inline``: the text sits in a
    16-byte Arrow view (n <= 12), so the 12 bytes from ``src`` can be read whatever ``n``.
    Otherwise n > 12 and the last word is the overlapping one that ends at ``n``.
    """
    poke(dst, 34, np.uint8)
    q = dst + 1
    j = 0
    if inline:
        w0 = peek(src, np.uint64)
        w1 = peek(src + 4, np.uint64)
        if (specials(w0) & low_bytes(n)) | (specials(w1) & low_bytes(max(n - 4, 0))) == 0:
            poke(q, w0, np.uint64)
            poke(q + 4, w1, np.uint64)
            poke(q + n, 34, np.uint8)
            return q + n + 1
    else:
        while j + 8 <= n:
            w = peek(src + j, np.uint64)
            if specials(w) != 0:
                break
            poke(q + j, w, np.uint64)
            j += 8
        if j + 8 > n:
            w = peek(src + n - 8, np.uint64)
            if specials(w) == 0:
                poke(q + n - 8, w, np.uint64)
                poke(q + n, 34, np.uint8)
                return q + n + 1
    dst = q + j
    while j < n:
        b = np.int64(peek(src + j, np.uint8))
        if b >= 32 and b != 34 and b != 92:
            poke(dst, b, np.uint8)
            dst += 1
        else:
            dst = put_escape(dst, b)
        j += 1
    poke(dst, 34, np.uint8)
    return dst + 1


@helper
def put_escape(dst, b):  # type: ignore[no-untyped-def]
    """Write the escape of byte ``b`` (a quote, a backslash or a control character)."""
    poke(dst, 92, np.uint8)
    if b == 34 or b == 92:
        letter = b
    elif b == 8:
        letter = 98  # b
    elif b == 9:
        letter = 116  # t
    elif b == 10:
        letter = 110  # n
    elif b == 12:
        letter = 102  # f
    elif b == 13:
        letter = 114  # r
    else:
        poke(dst + 1, 0x30303075, np.uint32)  # "u000"
        poke(dst + 4, 48 + (b >> 4), np.uint8)
        low = b & 15
        poke(dst + 5, 48 + low if low < 10 else 87 + low, np.uint8)
        return dst + 6
    poke(dst + 1, letter, np.uint8)
    return dst + 2


@helper
def view_text(view, first_buf):  # type: ignore[no-untyped-def]
    """(address, length) of the string in the 16-byte Arrow string view at address ``view``.

    ``first_buf`` is the address of the column's data buffer addresses (an int64 array).
    """
    length = np.int64(peek(view, np.int32))
    if length <= 12:
        return view + 4, length
    buf = np.int64(peek(view + 8, np.int32))
    offset = np.int64(peek(view + 12, np.uint32))
    return peek(first_buf + 8 * buf, np.int64) + offset, length


@helper
def put_date(dst, days, dig):  # type: ignore[no-untyped-def]
    """Write the (proleptic Gregorian) date ``days`` after 1970-01-01 as YYYY-MM-DD.

    Hinnant's ``civil_from_days``. Years outside 0..9999 get a sign (as polars and ISO 8601's
    expanded years write them: ``-0001``, ``+10000``).
    """
    z = days + 719468
    era = z // 146097  # floor division (Hinnant's C++ adjusts its truncating division)
    doe = z - era * 146097
    yoe = (doe - doe // 1460 + doe // 36524 - doe // 146096) // 365
    doy = doe - (365 * yoe + yoe // 4 - yoe // 100)
    mp = (5 * doy + 2) // 153
    day = doy - (153 * mp + 2) // 5 + 1
    month = mp + 3 if mp < 10 else mp - 9
    year = yoe + era * 400 + (1 if month <= 2 else 0)
    if 0 <= year <= 9999:
        dst = put_pair(put_pair(dst, year // 100, dig), year % 100, dig)
    else:
        poke(dst, 45 if year < 0 else 43, np.uint8)  # - or +
        dst += 1
        if year < 0:
            year = -year
        if year < 10000:
            dst = put_pair(put_pair(dst, year // 100, dig), year % 100, dig)
        else:
            dst = put_int(dst, year, dig)
    poke(dst, 45, np.uint8)
    dst = put_pair(dst + 1, month, dig)
    poke(dst, 45, np.uint8)
    return put_pair(dst + 1, day, dig)


@helper
def put_time(dst, us, aware, dig):  # type: ignore[no-untyped-def]
    """Write ``us`` microseconds into the day (0 <= us < 86400e6) as "THH:MM:SS.ffffff", then
    ``+00:00`` if ``aware`` and the closing quote."""
    seconds = us // 1_000_000
    micro = us - seconds * 1_000_000
    minutes = seconds // 60
    poke(dst, 84, np.uint8)  # T
    put_pair(dst + 1, minutes // 60, dig)
    poke(dst + 3, 58, np.uint8)  # :
    put_pair(dst + 4, minutes % 60, dig)
    poke(dst + 6, 58, np.uint8)
    put_pair(dst + 7, seconds % 60, dig)
    poke(dst + 9, 46, np.uint8)  # .
    high = micro // 10_000
    put_pair(dst + 10, high, dig)
    low = micro - high * 10_000
    put_pair(dst + 12, low // 100, dig)
    put_pair(dst + 14, low % 100, dig)
    dst += 16
    if aware:
        poke(dst, 0x2230303A30302B, np.uint64)  # +00:00" (and a spare byte)
        return dst + 7
    poke(dst, 34, np.uint8)
    return dst + 1


@helper
def read_int(address, width):  # type: ignore[no-untyped-def]
    if width == 8:
        return peek(address, np.int64)
    if width == 4:
        return np.int64(peek(address, np.int32))
    if width == 2:
        return np.int64(peek(address, np.int16))
    return np.int64(peek(address, np.int8))


@helper
def read_uint(address, width):  # type: ignore[no-untyped-def]
    if width == 1:
        return np.uint64(peek(address, np.uint8))
    if width == 8:
        return peek(address, np.uint64)
    if width == 4:
        return np.uint64(peek(address, np.uint32))
    return np.uint64(peek(address, np.uint16))


@helper
def read_float(address, width):  # type: ignore[no-untyped-def]
    if width == 8:
        return peek(address, np.float64)
    return np.float64(peek(address, np.float32))
