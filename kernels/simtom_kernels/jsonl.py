"""The JSON-lines kernel: a block of Arrow columns to NDJSON or Server-Sent Events bytes.

A record is written as ``<head>[id parts]<mid>"a":1,"b":"x"<tail>``: the framing segments come
from ``framing`` (for SSE ``id: `` / ``<suffix>\\ndata: {`` / ``}\\n\\n``; for NDJSON nothing /
``{`` / ``}\\n``), the id parts are decimal numbers joined by ``.``, and each field is a
pre-encoded key fragment (``"a":`` then ``,"b":``) followed by its value.

Columns are read in place from their Arrow buffers, which the caller describes in ``desc`` (one
row per column: kind, byte width, addresses of the validity bitmap and of the values, Arrow
offset, kind-specific parameters). Reading buffers by address keeps every block on one compiled
specialisation whatever its columns, with no copy of the data; the caller keeps the buffers
alive while the kernel runs. The helpers take addresses and integers only (no arrays), so calling
them costs no reference counting.

Enum and boolean fields are copied whole (key and value) from a table of pre-encoded entries,
``cats``; a run of such columns with few combinations is a *group*, whose table holds every
combination, so the run costs one copy per record (members are written one by one in a record
where one of them is null).

Value formats: integers in decimal; booleans ``true``/``false``; strings JSON-escaped (``"``,
``\\``, and bytes below 0x20; other UTF-8 passes through); datetimes as
``"YYYY-MM-DDTHH:MM:SS.ffffff"`` (UTC, floored to the microsecond), followed by ``+00:00`` if the
column has a time zone; dates as ``"YYYY-MM-DD"``; floats exactly as Python's ``repr`` when they
are a multiple of 10^-4 with at most 15 significant digits (``float_fast``), else from a text
rendering made by the caller (``fb_*``); NaN, ±inf and nulls as ``null``. A float with neither
is counted, marked in ``missed`` and written as ``null``: the caller renders that column's floats
and calls again.
"""

from __future__ import annotations

import math

import numba
import numpy as np

from ._jit import helper, jit, parallel
from ._json_values import (
    US_PER_DAY,
    copy,
    copy_padded,
    digit_pairs,
    float_fast,
    low_bytes,
    peek,
    poke,
    put_date,
    put_digits,
    put_float,
    put_int,
    put_null,
    put_small,
    put_text,
    put_time,
    put_uint,
    read_float,
    read_int,
    read_uint,
    specials,
    view_text,
)

# Column kinds (desc[:, D_KIND]).
K_NULL = 0  # a column of nulls (no buffers)
K_BOOL = 1  # bit-packed booleans; P1 = first of its two entries in ``cats`` (false, true)
K_INT = 2  # signed integers, D_WIDTH bytes
K_UINT = 3  # unsigned integers, D_WIDTH bytes
K_FLOAT = 4  # IEEE floats, D_WIDTH 4 or 8
K_STR = 5  # Arrow string views; P1 = index in ``bufs`` of the column's first data buffer
K_ENUM = 6  # dictionary codes, D_WIDTH bytes; P1 = first entry in ``cats``, P2 = entries
K_CAT = 7  # dictionary codes, D_WIDTH bytes; P1 = address of the dictionary's string views,
#           P2 = index in ``bufs`` of its first data buffer
K_DATETIME = 8  # int64 since the epoch; P1 = unit (0 µs, 1 ms, 2 ns), P2 = 1 if time-zone aware
K_DATE = 9  # int32 days since the epoch
K_RAW = 10  # string views copied as they are (ready-made JSON): no quotes, no escapes

# Fields of a column's row in ``desc``.
D_KIND = 0
D_WIDTH = 1
D_VALID = 2  # address of the validity bitmap, 0 if every value is valid
D_DATA = 3  # address of the first value (Arrow offset applied), or of the bitmap for K_BOOL
D_OFFSET = 4  # Arrow offset of the array, in elements (for bitmaps)
D_P1 = 5
D_P2 = 6
D_GROUP = 7  # on the first column of a group: its number of columns (else 0)
D_GROUP_ENTRY = 8  # on the first column of a group: its first entry in ``cats``
D_STRIDE = 9  # on a group's columns: the weight of the column's code in the group's entry
N_FIELDS = 10

# Framing segments: segment s is framing[framing_ends[s]:framing_ends[s + 1]]. With
# ``variants`` (one int64 per record; empty: none), record r's mid segment is
# ``F_VARIANTS + variants[r]`` instead of ``F_MID`` (an SSE ``event:`` line per record).
F_HEAD = 0
F_MID = 1
F_TAIL = 2
F_VARIANTS = 3

#: Bytes of padding the caller leaves after ``keys``, ``cats`` and ``framing`` (copied by words).
PAD = 32

# Widest fixed-size values, in bytes (a string adds up to 6 bytes per byte of text on top).
MAX_INT = 20  # -9223372036854775808, 18446744073709551615
MAX_FLOAT = 19  # the fast form: sign, 15 digits, point, digit (renderings are checked apiece)
MAX_DATETIME = 42  # quotes, signed year of up to 7 digits, -MM-DDTHH:MM:SS.ffffff, +00:00
MAX_DATE = 20  # quotes, signed year of up to 8 digits, -MM-DD
MAX_ID_PART = 21  # a dot and an int64

@helper
def get(desc, c, field):  # type: ignore[no-untyped-def]
    """``desc[c, field]``, from the address of ``desc`` (no index checks in the hot loop)."""
    return peek(desc + 8 * (c * N_FIELDS + field), np.int64)


@helper
def bit(bitmap, i):  # type: ignore[no-untyped-def]
    """Bit ``i`` of the bitmap at address ``bitmap`` (True when the address is 0)."""
    if bitmap == 0:
        return True
    return (peek(bitmap + (i >> 3), np.uint8) >> (i & 7)) & 1 == 1


@helper
def record_bound(desc, key_ends, cat_ends, framing_ends, n_parts):  # type: ignore[no-untyped-def]
    """Most bytes a record can take, not counting the text of its strings and renderings.

    With ``PAD`` more, so that the word stores past the end of a value stay in the buffer.
    """
    segments = framing_ends[framing_ends.shape[0] - 1] - framing_ends[0]  # (all: a spare)
    bound = segments + n_parts * MAX_ID_PART + PAD
    for c in range(desc.shape[0]):
        kind = desc[c, D_KIND]
        bound += key_ends[c + 1] - key_ends[c]
        if kind in (K_ENUM, K_BOOL):
            widest = 4  # null
            first = desc[c, D_P1]
            for e in range(first, first + desc[c, D_P2]):
                widest = max(widest, cat_ends[e + 1] - cat_ends[e])  # (key included: a spare)
            bound += widest
        elif kind in (K_STR, K_CAT, K_RAW):
            bound += 4  # null, or the quotes
        elif kind == K_FLOAT:
            bound += MAX_FLOAT
        elif kind == K_DATETIME:
            bound += MAX_DATETIME
        elif kind == K_DATE:
            bound += MAX_DATE
        else:
            bound += MAX_INT
    return bound


@helper
def needs_rendering(desc, c, r):  # type: ignore[no-untyped-def]
    """Whether row ``r`` of float column ``c`` is a finite value with no fast form."""
    if not bit(desc[c, D_VALID], r + desc[c, D_OFFSET]):
        return False
    x = read_float(desc[c, D_DATA] + r * desc[c, D_WIDTH], desc[c, D_WIDTH])
    if math.isnan(x) or math.isinf(x):
        return False
    k, _ = float_fast(x)
    return k < 0


@jit
def float_fallbacks(desc, columns, n):  # type: ignore[no-untyped-def]
    """Rows of the floats that have no fast form, in the float ``columns`` listed.

    Returns (starts int64[n_cols + 1], rows int64[...]): column c's rows are
    ``rows[starts[c]:starts[c + 1]]``, ascending (none for columns not listed). Nulls, NaN and
    infinities are not listed: they are written as null.
    """
    n_cols = desc.shape[0]
    counts = np.zeros(n_cols + 1, np.int64)
    for c in columns:
        for r in range(n):
            if needs_rendering(desc, c, r):
                counts[c + 1] += 1
    starts = np.cumsum(counts)
    rows = np.empty(starts[n_cols], np.int64)
    for c in columns:
        j = starts[c]
        for r in range(n):
            if needs_rendering(desc, c, r):
                rows[j] = r
                j += 1
    return starts, rows


@jit
def encode(out, desc, bufs, keys, key_ends, cats, cat_ends, fb_starts, fb_rows, fb_offsets,
           fb_data, framing, framing_ends, ids, variants, ends,
           missed):  # type: ignore[no-untyped-def]
    """Encode every record of the block; return (buffer, number of floats without a rendering).

    Records are written into ``out`` if they fit, else into a larger copy. ``ends[r]`` receives
    the offset just past record r (the records are ``buffer[:ends[-1]]``). ``missed[c]`` is set
    to 1 for each float column c that held a value with no fast form and no rendering.

    ``keys``, ``cats`` and ``framing`` must have ``PAD`` readable bytes past their last entry
    (entries are copied a word at a time).
    """
    n = ends.shape[0]
    bound = record_bound(desc, key_ends, cat_ends, framing_ends, ids.shape[0])
    if out.shape[0] < 2 * bound:
        out = np.empty(2 * bound, np.uint8)
    r = n - n
    used = n - n
    misses = n - n
    while True:
        r, used, m = fill(out, used, r, n, bound, desc, bufs, keys, key_ends, cats, cat_ends,
                          fb_starts, fb_rows, fb_offsets, fb_data, framing, framing_ends, ids,
                          variants, ends, missed)
        misses += m
        if r == n:
            return out, misses
        out = grow(out, used, bound)


@parallel
def encode_chunked(out, desc, bufs, keys, key_ends, cats, cat_ends, fb_starts, fb_rows,
                   fb_offsets, fb_data, framing, framing_ends, ids, variants, ends, missed,
                   chunk):  # type: ignore[no-untyped-def]
    """``encode`` with chunks of ``chunk`` records written in parallel threads (same bytes).

    Chunk c is written into its own slot of ``out`` (an equal share of it), then moved down to
    follow chunk c - 1: the copy costs less than the encoding it lets run in parallel. From the
    first chunk that did not fit its slot on, records are written serially after the others.
    """
    n = ends.shape[0]
    bound = record_bound(desc, key_ends, cat_ends, framing_ends, ids.shape[0])
    chunks = (n + chunk - 1) // chunk
    slot = out.shape[0] // chunks
    reached = np.empty(chunks, np.int64)
    used = np.empty(chunks, np.int64)
    missing = np.empty(chunks, np.int64)
    for c in numba.prange(chunks):
        lo = c * chunk
        hi = min(n, lo + chunk)
        region = out[c * slot:(c + 1) * slot]
        done, size, m = fill(region, 0, lo, hi, bound, desc, bufs, keys, key_ends, cats,
                             cat_ends, fb_starts, fb_rows, fb_offsets, fb_data, framing,
                             framing_ends, ids, variants, ends, missed)
        reached[c] = done
        used[c] = size
        missing[c] = m
    r = reached[0]
    pos = used[0]
    misses = missing[0]
    c = 1
    while c < chunks and r == c * chunk:  # every chunk so far is complete: append chunk c
        move_down(np.int64(out.ctypes.data), pos, c * slot, used[c])
        for k in range(c * chunk, reached[c]):
            ends[k] += pos
        r = reached[c]
        pos += used[c]
        misses += missing[c]
        c += 1
    while r < n:
        r, pos, m = fill(out, pos, r, n, bound, desc, bufs, keys, key_ends, cats, cat_ends,
                         fb_starts, fb_rows, fb_offsets, fb_data, framing, framing_ends, ids,
                         variants, ends, missed)
        misses += m
        if r < n:
            out = grow(out, pos, bound)
    return out, misses


@helper
def move_down(base, to, source, n):  # type: ignore[no-untyped-def]
    """Copy ``n`` bytes from ``base + source`` to ``base + to`` (to <= source; they may
    overlap): forward, a word at a time, so every word is read before it is overwritten."""
    a = base + source
    b = base + to
    j = 0
    while j + 8 <= n:
        poke(b + j, peek(a + j, np.uint64), np.uint64)
        j += 8
    while j < n:
        poke(b + j, peek(a + j, np.uint8), np.uint8)
        j += 1


@jit
def fill(out, used, lo, hi, bound, desc, bufs, keys, key_ends, cats, cat_ends, fb_starts,
         fb_rows, fb_offsets, fb_data, framing, framing_ends, ids, variants, ends,
         missed):  # type: ignore[no-untyped-def]
    """Write records ``lo, lo + 1, ..`` into ``out`` from byte ``used`` while they surely fit.

    Returns (next record, bytes used, floats without a rendering). ``ends[r]`` receives the
    offset just past record r; ``bound`` is ``record_bound``.
    """
    digits = digit_pairs()
    dig = np.int64(digits.ctypes.data)
    n_cols = desc.shape[0]
    n_parts = ids.shape[0]
    n_variants = variants.shape[0]
    cursor = np.empty(n_cols, np.int64)  # next rendering of each float column
    for c in range(n_cols):
        first = fb_starts[c]
        cursor[c] = first + np.searchsorted(fb_rows[first:fb_starts[c + 1]], lo)
    # the last date written by each datetime column, and its text (YYYY-MM-DD: 8 + 2 bytes)
    last_day = np.full(n_cols, -(1 << 62), np.int64)
    day_head = np.zeros(n_cols, np.uint64)
    day_tail = np.zeros(n_cols, np.uint16)
    key_base = np.int64(keys.ctypes.data)
    dsc = np.int64(desc.ctypes.data)
    ke = np.int64(key_ends.ctypes.data)
    ce = np.int64(cat_ends.ctypes.data)
    cat_base = np.int64(cats.ctypes.data)
    frame_base = np.int64(framing.ctypes.data)
    fb_base = np.int64(fb_data.ctypes.data)
    buf_base = np.int64(bufs.ctypes.data)
    head = frame_base + framing_ends[F_HEAD]
    head_n = framing_ends[F_HEAD + 1] - framing_ends[F_HEAD]
    mid = frame_base + framing_ends[F_MID]
    mid_n = framing_ends[F_MID + 1] - framing_ends[F_MID]
    tail = frame_base + framing_ends[F_TAIL]
    tail_n = framing_ends[F_TAIL + 1] - framing_ends[F_TAIL]
    base = np.int64(out.ctypes.data)
    limit = base + out.shape[0]
    dst = base + used
    misses = 0
    for r in range(lo, hi):
        start = dst
        if dst + bound > limit:
            return r, start - base, misses
        dst = copy_padded(dst, head, head_n)
        for p in range(n_parts):
            if p > 0:
                poke(dst, 46, np.uint8)
                dst += 1
            part = ids[p, r]
            if 0 <= part < 100_000_000:
                dst = put_small(dst, part, dig)
            else:
                dst = put_int(dst, part, dig)
        if n_variants:
            segment = F_VARIANTS + variants[r]
            dst = copy_padded(dst, frame_base + framing_ends[segment],
                              framing_ends[segment + 1] - framing_ends[segment])
        else:
            dst = copy_padded(dst, mid, mid_n)
        c = 0
        single_until = 0  # columns of a group written one by one (a member is null)
        while c < n_cols:
            col = c
            kind = get(dsc, col, D_KIND)
            width = get(dsc, col, D_WIDTH)
            address = get(dsc, col, D_DATA) + r * width
            at = r + get(dsc, col, D_OFFSET)
            valid = kind != K_NULL and bit(get(dsc, col, D_VALID), at)
            # the bytes to copy first: a whole entry (enum, boolean, group), else the key
            entry = -1
            step = 1
            members = get(dsc, col, D_GROUP)
            if members > 1 and col >= single_until:
                code = 0
                i = col
                while i < col + members:
                    member_at = r + get(dsc, i, D_OFFSET)
                    if not bit(get(dsc, i, D_VALID), member_at):
                        break
                    if get(dsc, i, D_KIND) == K_BOOL:
                        value = np.int64(bit(get(dsc, i, D_DATA), member_at))
                    else:
                        member_width = get(dsc, i, D_WIDTH)
                        value = np.int64(read_uint(get(dsc, i, D_DATA) + r * member_width,
                                                   member_width))
                        if value >= get(dsc, i, D_P2):
                            break
                    code += value * get(dsc, i, D_STRIDE)
                    i += 1
                if i == col + members:
                    entry = get(dsc, col, D_GROUP_ENTRY) + code
                    step = members
                else:
                    single_until = col + members
            if entry < 0 and valid and kind in (K_ENUM, K_BOOL):
                if kind == K_BOOL:
                    code = np.int64(bit(get(dsc, col, D_DATA), at))
                else:
                    code = np.int64(read_uint(address, width))
                if code < get(dsc, col, D_P2):
                    entry = get(dsc, col, D_P1) + code
                else:
                    valid = False
            if entry >= 0:
                src = cat_base + peek(ce + 8 * (entry), np.int64)
                m = peek(ce + 8 * (entry + 1), np.int64) - peek(ce + 8 * (entry), np.int64)
            else:
                src = key_base + peek(ke + 8 * (col), np.int64)
                m = peek(ke + 8 * (col + 1), np.int64) - peek(ke + 8 * (col), np.int64)
            # copy by words (tables are padded, the buffer has room past the record)
            poke(dst, peek(src, np.uint64), np.uint64)
            poke(dst + 8, peek(src + 8, np.uint64), np.uint64)
            poke(dst + 16, peek(src + 16, np.uint64), np.uint64)
            poke(dst + 24, peek(src + 24, np.uint64), np.uint64)
            j = 32
            while j < m:
                poke(dst + j, peek(src + j, np.uint64), np.uint64)
                j += 8
            dst += m
            c += step
            if entry >= 0:
                continue
            if not valid:
                dst = put_null(dst)
            elif kind == K_INT:
                v = read_int(address, width)
                if 0 <= v < 100_000_000:
                    word = np.uint64(0)
                    n = 0
                    while v >= 100:
                        q = v // 100
                        word = (word << np.uint64(16)) | np.uint64(
                            peek(dig + 2 * (v - 100 * q), np.uint16))
                        n += 2
                        v = q
                    if v >= 10:
                        word = (word << np.uint64(16)) | np.uint64(peek(dig + 2 * v, np.uint16))
                        n += 2
                    else:
                        word = (word << np.uint64(8)) | np.uint64(48 + v)
                        n += 1
                    poke(dst, word, np.uint64)
                    dst += n
                else:
                    dst = put_int(dst, v, dig)
            elif kind in (K_STR, K_RAW):
                view = get(dsc, col, D_DATA) + 16 * r
                length = np.int64(peek(view, np.int32))
                if length <= 12 and kind == K_STR:
                    # inline in the view: two overlapping words hold it (the fast case)
                    w0 = peek(view + 4, np.uint64)
                    w1 = peek(view + 8, np.uint64)
                    if (specials(w0) & low_bytes(length)) | (
                            specials(w1) & low_bytes(max(length - 4, 0))) == 0:
                        poke(dst, 34, np.uint8)
                        poke(dst + 1, w0, np.uint64)
                        poke(dst + 5, w1, np.uint64)
                        poke(dst + 1 + length, 34, np.uint8)
                        dst += length + 2
                        continue
                text, length = view_text(view, buf_base + 8 * get(dsc, col, D_P1))
                if dst + 6 * length + bound > limit:
                    return r, start - base, misses
                if kind == K_STR:
                    dst = put_text(dst, text, length, length <= 12)
                else:
                    dst = copy(dst, text, length)
            elif kind == K_FLOAT:
                x = read_float(address, width)
                if math.isnan(x) or math.isinf(x):
                    dst = put_null(dst)
                    continue
                ax = abs(x)
                if ax < 1e11:
                    # the common case inline: x = ±k / 10^4 (see float_fast, put_float)
                    k = np.int64(math.floor(ax * 1e4 + 0.5))
                    if k / 1e4 == ax:
                        if x < 0.0 or (x == 0.0 and math.copysign(1.0, x) < 0.0):
                            poke(dst, 45, np.uint8)
                            dst += 1
                        whole = k // 10000
                        frac = k - 10000 * whole
                        if frac == 0:
                            tail_word = np.uint64(0x302E)  # .0
                            tail_len = 2
                        elif frac % 100 == 0:
                            frac //= 100
                            if frac % 10 == 0:
                                tail_word = np.uint64(0x2E) | (np.uint64(48 + frac // 10)
                                                               << np.uint64(8))
                                tail_len = 2
                            else:
                                tail_word = np.uint64(0x2E) | (np.uint64(
                                    peek(dig + 2 * frac, np.uint16)) << np.uint64(8))
                                tail_len = 3
                        else:
                            tail_word = (np.uint64(0x2E)
                                         | (np.uint64(peek(dig + 2 * (frac // 100), np.uint16))
                                            << np.uint64(8))
                                         | (np.uint64(peek(dig + 2 * (frac % 100), np.uint16))
                                            << np.uint64(24)))
                            tail_len = 5
                            if frac % 10 == 0:
                                tail_len = 4
                        if whole < 100:
                            if whole >= 10:
                                poke(dst, peek(dig + 2 * whole, np.uint16), np.uint16)
                                dst += 2
                            else:
                                poke(dst, 48 + whole, np.uint8)
                                dst += 1
                        else:
                            dst = put_digits(dst, whole, dig)
                        poke(dst, tail_word, np.uint64)
                        dst += tail_len
                        continue
                k, d = float_fast(x)
                if k >= 0:
                    dst = put_float(dst, x, k, d, dig)
                    continue
                j = cursor[col]
                if j < fb_starts[col + 1] and fb_rows[j] == r:
                    cursor[col] = j + 1
                    length = fb_offsets[j + 1] - fb_offsets[j]
                    if dst + length + bound > limit:
                        return r, start - base, misses
                    dst = copy(dst, fb_base + fb_offsets[j], length)
                else:
                    missed[col] = 1
                    misses += 1
                    dst = put_null(dst)
            elif kind == K_DATETIME:
                t = peek(address, np.int64)
                unit = get(dsc, col, D_P1)
                if unit == 1:
                    t *= 1000
                elif unit == 2:
                    t = t // 1000  # floor: the microsecond the instant falls in
                day = t // US_PER_DAY  # floor: instants before 1970 fall on the right day
                poke(dst, 34, np.uint8)
                if day == last_day[col]:
                    poke(dst + 1, day_head[col], np.uint64)
                    poke(dst + 9, day_tail[col], np.uint16)
                    dst += 11
                else:
                    after = put_date(dst + 1, day, dig)
                    if after == dst + 11:
                        last_day[col] = day
                        day_head[col] = peek(dst + 1, np.uint64)
                        day_tail[col] = peek(dst + 9, np.uint16)
                    dst = after
                dst = put_time(dst, t - day * US_PER_DAY, get(dsc, col, D_P2) == 1, dig)
            elif kind == K_DATE:
                poke(dst, 34, np.uint8)
                dst = put_date(dst + 1, np.int64(peek(address, np.int32)), dig)
                poke(dst, 34, np.uint8)
                dst += 1
            elif kind == K_UINT:
                dst = put_uint(dst, read_uint(address, width), dig)
            elif kind == K_CAT:
                code = np.int64(read_uint(address, width))
                text, length = view_text(get(dsc, col, D_P1) + 16 * code,
                                         buf_base + 8 * get(dsc, col, D_P2))
                if dst + 6 * length + bound > limit:
                    return r, start - base, misses
                dst = put_text(dst, text, length, length <= 12)
        dst = copy_padded(dst, tail, tail_n)
        ends[r] = dst - base
    return hi, dst - base, misses


@helper
def grow(out, used, need):  # type: ignore[no-untyped-def]
    """A larger buffer holding ``out[:used]``, with room for at least ``need`` more bytes."""
    bigger = np.empty(max(2 * out.shape[0], used + need + 4096), np.uint8)
    bigger[:used] = out[:used]
    return bigger
