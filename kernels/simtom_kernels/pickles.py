"""The pickle kernel: a block of Arrow columns as pickles of lists of dicts, for Python streams.

``pickle.loads`` builds dicts in C, faster per record than Python code setting values one by
one, and this kernel writes its input without the GIL, just before it is loaded. Each chunk of
records is one pickle (protocol 4 opcodes) of a list of dicts:

- a head, the same for every chunk: ``dict.copy`` as a global (memo 0), each key (memo 1 ..
  n_cols) and, in ``cat_memo`` order, the categories of enum columns (shared str objects);
- a template: a dict of every column's common value in the chunk (the most frequent category or
  boolean, the majority integer if there is one, else the chunk's first value), kept in the memo
  as ``(dict,)``;
- each record as ``dict.copy(template)`` (a copy of a dict of the right size costs a ``memcpy``,
  where a dict filled key by key is resized four times), then ``SETITEMS`` with the fields whose
  value is not the template's. Measured over BNPL chunks of 256 records: 19 of 47 fields on
  average constant in the chunk or equal to its common value, so 28 set per record;
- ``APPENDS`` and ``STOP``.

Values are those of the record's JSON line parsed back (see ``jsonl.py``): integers, floats
(the same double; a Float32 as its double), booleans, strings, enum categories, datetimes and
dates as the encoder's ISO text, and None for nulls, NaN and infinities. ``desc`` describes the
columns as for the JSON kernel (kinds ``K_*``, fields ``D_*``), except that an enum column's
``D_P1`` and ``D_P2`` are its first entry and its number of entries in ``cats``.
"""

from __future__ import annotations

import math

import numpy as np

from ._jit import helper, inline, jit
from ._json_values import (
    US_PER_DAY,
    copy,
    digit_pairs,
    peek,
    poke,
    put_date,
    put_time,
    read_float,
    read_int,
    read_uint,
    view_text,
)
from .jsonl import (
    D_DATA,
    D_KIND,
    D_OFFSET,
    D_P1,
    D_P2,
    D_VALID,
    D_WIDTH,
    K_BOOL,
    K_CAT,
    K_DATE,
    K_DATETIME,
    K_ENUM,
    K_FLOAT,
    K_INT,
    K_NULL,
    K_STR,
    K_UINT,
    bit,
    get,
)

# Pickle opcodes (Lib/pickle.py).
MARK = 0x28  # (
STOP = 0x2E  # .
POP = 0x30  # 0
BINFLOAT = 0x47  # G: a big-endian double
BININT = 0x4A  # J: a little-endian int32
BININT1 = 0x4B  # K: a uint8
BININT2 = 0x4D  # M: a little-endian uint16
NONE = 0x4E  # N
REDUCE = 0x52  # R: callable(*args)
BINUNICODE = 0x58  # X: uint32 length, UTF-8
EMPTY_LIST = 0x5D  # ]
APPENDS = 0x65  # e
BINGET = 0x68  # h: memo[uint8]
LONG_BINGET = 0x6A  # j: memo[uint32]
SETITEMS = 0x75  # u
EMPTY_DICT = 0x7D  # }
PROTO = 0x80
TUPLE1 = 0x85
NEWTRUE = 0x88
NEWFALSE = 0x89
LONG1 = 0x8A  # uint8 length, little-endian two's complement
SHORT_BINUNICODE = 0x8C  # uint8 length, UTF-8
STACK_GLOBAL = 0x93
MEMOIZE = 0x94

#: Most categories of a boolean or enum column whose most common value a chunk's template takes
#: (counted); other columns take their majority value, if any.
MODE_CATEGORIES = 256
#: Memo index of ``dict.copy``; keys follow it (column c's key is memo c + 1).
MEMO_COPY = 0
#: Most bytes a value takes besides the text of a string (a datetime's text is the longest:
#: opcode, length, a signed year of up to 7 digits, -MM-DDTHH:MM:SS.ffffff+00:00 and a spare
#: word the time writer stores), and most bytes of a memo reference.
MAX_VALUE = 48
MAX_GET = 5
#: Bytes of slack past the written data: the writers store whole words.
PAD = 32


@helper
def put_get(dst, index):  # type: ignore[no-untyped-def]
    """Write a reference to memo entry ``index``."""
    if index < 256:
        poke(dst, BINGET | (index << 8), np.uint16)
        return dst + 2
    poke(dst, LONG_BINGET, np.uint8)
    poke(dst + 1, index, np.uint32)
    return dst + 5


@helper
def put_unicode(dst, src, length):  # type: ignore[no-untyped-def]
    """Write the ``length`` bytes of UTF-8 text at ``src`` as a str."""
    if length < 256:
        poke(dst, SHORT_BINUNICODE | (length << 8), np.uint16)
        return copy(dst + 2, src, length)
    poke(dst, BINUNICODE, np.uint8)
    poke(dst + 1, length, np.uint32)
    return copy(dst + 5, src, length)


@helper
def put_long(dst, v):  # type: ignore[no-untyped-def]
    """Write the int64 ``v`` in the shortest of the integer opcodes that holds it."""
    if 0 <= v < 256:
        poke(dst, BININT1 | (v << 8), np.uint16)
        return dst + 2
    if 0 <= v < 65536:
        poke(dst, BININT2, np.uint8)
        poke(dst + 1, v, np.uint16)
        return dst + 3
    if -2147483648 <= v < 2147483648:
        poke(dst, BININT, np.uint8)
        poke(dst + 1, v, np.int32)
        return dst + 5
    poke(dst, LONG1 | (8 << 8), np.uint16)
    poke(dst + 2, v, np.int64)
    return dst + 10


@helper
def swap64(v):  # type: ignore[no-untyped-def]
    """The bytes of the uint64 ``v`` in reverse order (LLVM makes it one bswap)."""
    v = ((v & np.uint64(0x00FF00FF00FF00FF)) << np.uint64(8)) | (
        (v >> np.uint64(8)) & np.uint64(0x00FF00FF00FF00FF))
    v = ((v & np.uint64(0x0000FFFF0000FFFF)) << np.uint64(16)) | (
        (v >> np.uint64(16)) & np.uint64(0x0000FFFF0000FFFF))
    return (v << np.uint64(32)) | (v >> np.uint64(32))


@inline
def stored_equal(kind, valid, offset, data, width, a, b):  # type: ignore[no-untyped-def]
    """Whether rows ``a`` and ``b`` of a column hold the same stored value.

    Compares stored bits, so it may say False of equal values stored differently (NaN payloads,
    equal long strings in different places); that costs only a field set in a record.
    """
    if kind == K_NULL:
        return True
    valid_a = bit(valid, a + offset)
    if valid_a != bit(valid, b + offset):
        return False
    if not valid_a:
        return True  # both null
    if kind == K_BOOL:
        return bit(data, a + offset) == bit(data, b + offset)
    if kind == K_STR:
        return (peek(data + 16 * a, np.uint64) == peek(data + 16 * b, np.uint64)
                and peek(data + 16 * a + 8, np.uint64) == peek(data + 16 * b + 8, np.uint64))
    return read_uint(data + a * width, width) == read_uint(data + b * width, width)


@inline
def word(data, r, width):  # type: ignore[no-untyped-def]
    """The stored bits of row ``r`` of a column of ``width``-byte values at ``data``."""
    if width == 8:
        return peek(data + 8 * r, np.uint64)
    if width == 4:
        return np.uint64(peek(data + 4 * r, np.uint32))
    if width == 2:
        return np.uint64(peek(data + 2 * r, np.uint16))
    return np.uint64(peek(data + r, np.uint8))


@helper
def mark_column(dsc, c, lo, hi, counts, firsts, differs):  # type: ignore[no-untyped-def]
    """The template's row for column ``c`` in rows ``lo .. hi - 1``, and whether any row differs
    from it (``differs[r - lo]`` is set to 1 for each that does).

    The template's row holds a common value: the most frequent for booleans and enums of up to
    ``counts.shape[0] - 1`` categories, the majority value of integers if there is one (Boyer
    and Moore's vote), and the first row's for the rest (floats, strings, times: mostly all
    different, and the first row is as likely as any to hold a common value).
    """
    kind = get(dsc, c, D_KIND)
    valid = get(dsc, c, D_VALID)
    offset = get(dsc, c, D_OFFSET)
    data = get(dsc, c, D_DATA)
    width = get(dsc, c, D_WIDTH)
    m = get(dsc, c, D_P2)
    # no nulls and fixed-width values: compare the stored words (the common case, made fast)
    plain = valid == 0 and kind != K_BOOL and kind != K_STR and kind != K_NULL
    row = lo
    if kind in (K_BOOL, K_ENUM) and m < counts.shape[0]:
        counts[:m + 1] = 0
        for r in range(lo, hi):
            if plain:
                code = min(m, np.int64(word(data, r, width)))
            else:
                code = m  # null, or a code without a category
                if bit(valid, r + offset):
                    if kind == K_BOOL:
                        code = np.int64(bit(data, r + offset))
                    else:
                        code = min(m, np.int64(read_uint(data + r * width, width)))
            if counts[code] == 0:
                firsts[code] = r
            counts[code] += 1
        row = firsts[np.argmax(counts[:m + 1])]
    elif kind in (K_INT, K_UINT):
        votes = 1
        for r in range(lo + 1, hi):
            if votes == 0:
                row = r
                votes = 1
            elif (word(data, row, width) == word(data, r, width) if plain
                  else stored_equal(kind, valid, offset, data, width, row, r)):
                votes += 1
            else:
                votes -= 1
    any_differs = False
    if plain:
        value = word(data, row, width)
        for r in range(lo, hi):
            differs_here = word(data, r, width) != value
            differs[r - lo] = differs_here
            any_differs |= differs_here
    else:
        for r in range(lo, hi):
            differs_here = not stored_equal(kind, valid, offset, data, width, row, r)
            differs[r - lo] = differs_here
            any_differs |= differs_here
    return row, any_differs


@helper
def text_bytes(dsc, n_cols, lo, hi):  # type: ignore[no-untyped-def]
    """Bytes of string text in rows ``lo .. hi - 1`` (string and categorical columns; a null's
    view or code may hold anything, so nulls are skipped)."""
    total = 0
    for c in range(n_cols):
        kind = get(dsc, c, D_KIND)
        if kind != K_STR and kind != K_CAT:
            continue
        valid = get(dsc, c, D_VALID)
        offset = get(dsc, c, D_OFFSET)
        width = get(dsc, c, D_WIDTH)
        data = get(dsc, c, D_DATA)
        words = get(dsc, c, D_P1)
        for r in range(lo, hi):
            if not bit(valid, r + offset):
                continue
            if kind == K_STR:
                total += np.int64(peek(data + 16 * r, np.int32))
            else:
                code = np.int64(read_uint(data + r * width, width))
                total += np.int64(peek(words + 16 * code, np.int32))
    return total


@helper
def record_bound(desc, cat_ends):  # type: ignore[no-untyped-def]
    """Most bytes a record takes, not counting the text of its strings: a dict.copy call,
    a mark, every field (key and value) and SETITEMS."""
    bound = 3 * MAX_GET + 3
    for c in range(desc.shape[0]):
        bound += MAX_GET + MAX_VALUE
        if desc[c, D_KIND] == K_ENUM:  # categories written as text (not memoised)
            first = desc[c, D_P1]
            widest = 0
            for e in range(first, first + desc[c, D_P2]):
                widest = max(widest, cat_ends[e + 1] - cat_ends[e])
            bound += widest
    return bound


@jit
def pickle_chunks(out, desc, bufs, head, cats, cat_ends, cat_memo, template_memo, chunk,
                  first, stop, starts):  # type: ignore[no-untyped-def]
    """Write records ``first .. stop - 1`` as pickles of ``chunk`` records each, from the start
    of ``out``; return the buffer.

    Pickle k is ``buffer[starts[k]:starts[k + 1]]`` (``starts`` has
    ``ceil((stop - first) / chunk) + 1`` entries). Records are written into ``out`` if they
    fit, else into a larger copy. ``head`` is the head of every pickle (see the module's notes);
    ``template_memo`` is the memo index its ``(template,)`` tuple takes, one past the head's last
    entry.
    """
    digits = digit_pairs()
    dig = np.int64(digits.ctypes.data)
    dsc = np.int64(desc.ctypes.data)
    buf_base = np.int64(bufs.ctypes.data)
    cat_base = np.int64(cats.ctypes.data)
    head_base = np.int64(head.ctypes.data)
    n_cols = desc.shape[0]
    bound = record_bound(desc, cat_ends)
    # the columns' descriptions, unpacked once
    kinds = desc[:, D_KIND].copy()
    widths = desc[:, D_WIDTH].copy()
    valids = desc[:, D_VALID].copy()
    datas = desc[:, D_DATA].copy()
    offsets = desc[:, D_OFFSET].copy()
    p1s = desc[:, D_P1].copy()
    p2s = desc[:, D_P2].copy()
    rep = np.empty(n_cols, np.int64)
    differs = np.empty((n_cols, max(0, min(chunk, stop - first))), np.uint8)
    counts = np.empty(MODE_CATEGORIES + 1, np.int64)
    firsts = np.empty(MODE_CATEGORIES + 1, np.int64)
    varying = np.empty(n_cols, np.int64)
    used = 0
    chunks = (stop - first + chunk - 1) // chunk
    for k in range(chunks):
        lo = first + k * chunk
        hi = min(stop, lo + chunk)
        need = (head.shape[0] + 16 + (hi - lo + 1) * bound
                + 2 * text_bytes(dsc, n_cols, lo, hi) + PAD)
        if used + need > out.shape[0]:
            bigger = np.empty(max(2 * out.shape[0], used + need), np.uint8)
            bigger[:used] = out[:used]
            out = bigger
        base = np.int64(out.ctypes.data)
        starts[k] = used
        dst = copy(base + used, head_base, head.shape[0])
        # the template: each column's common value in the chunk
        n_varying = 0
        for c in range(n_cols):
            rep[c], any_differs = mark_column(dsc, c, lo, hi, counts, firsts, differs[c])
            if any_differs:
                varying[n_varying] = c
                n_varying += 1
        poke(dst, EMPTY_DICT | (MARK << 8), np.uint16)
        dst += 2
        for r in range(lo - 1, hi):
            template = r < lo
            if not template:  # a copy of the template, with the fields that differ set
                dst = put_get(dst, MEMO_COPY)
                dst = put_get(dst, template_memo)
                poke(dst, REDUCE | (MARK << 8), np.uint16)
                dst += 2
            marked = dst
            for j in range(n_cols if template else n_varying):
                c = j if template else varying[j]
                row = rep[c]
                if not template:
                    if not differs[c, r - lo]:
                        continue
                    row = r
                dst = put_get(dst, MEMO_COPY + 1 + c)
                kind = kinds[c]
                valid = valids[c]
                if kind == K_NULL or (valid != 0 and not bit(valid, row + offsets[c])):
                    poke(dst, NONE, np.uint8)
                    dst += 1
                    continue
                width = widths[c]
                address = datas[c] + row * width
                if kind == K_FLOAT:
                    x = read_float(address, width)
                    if math.isnan(x) or math.isinf(x):
                        poke(dst, NONE, np.uint8)
                        dst += 1
                    else:
                        poke(dst + 1, x, np.float64)
                        poke(dst, BINFLOAT, np.uint8)
                        poke(dst + 1, swap64(peek(dst + 1, np.uint64)), np.uint64)
                        dst += 9
                elif kind == K_INT:
                    dst = put_long(dst, read_int(address, width))
                elif kind == K_ENUM:
                    code = np.int64(read_uint(address, width))
                    if code >= p2s[c]:
                        poke(dst, NONE, np.uint8)
                        dst += 1
                    elif cat_memo[c] >= 0:
                        dst = put_get(dst, cat_memo[c] + code)
                    else:
                        e = p1s[c] + code
                        dst = put_unicode(dst, cat_base + cat_ends[e],
                                          cat_ends[e + 1] - cat_ends[e])
                elif kind == K_STR:
                    view = datas[c] + 16 * row
                    length = np.int64(peek(view, np.int32))
                    if length <= 12:  # inline in the view: copied as two words
                        poke(dst, SHORT_BINUNICODE | (length << 8), np.uint16)
                        poke(dst + 2, peek(view + 4, np.uint64), np.uint64)
                        poke(dst + 10, peek(view + 12, np.uint32), np.uint32)
                        dst += 2 + length
                    else:
                        text, length = view_text(view, buf_base + 8 * p1s[c])
                        dst = put_unicode(dst, text, length)
                elif kind == K_BOOL:
                    poke(dst, NEWTRUE if bit(datas[c], row + offsets[c]) else NEWFALSE, np.uint8)
                    dst += 1
                elif kind == K_DATETIME:
                    t = peek(address, np.int64)
                    if p1s[c] == 1:
                        t *= 1000
                    elif p1s[c] == 2:
                        t = t // 1000  # floor: the microsecond the instant falls in
                    day = t // US_PER_DAY
                    after = put_date(dst + 2, day, dig)
                    # the time writer ends with a closing quote: the next field overwrites it
                    after = put_time(after, t - day * US_PER_DAY, p2s[c] == 1, dig) - 1
                    poke(dst, SHORT_BINUNICODE | ((after - dst - 2) << 8), np.uint16)
                    dst = after
                elif kind == K_DATE:
                    after = put_date(dst + 2, np.int64(peek(address, np.int32)), dig)
                    poke(dst, SHORT_BINUNICODE | ((after - dst - 2) << 8), np.uint16)
                    dst = after
                elif kind == K_UINT:
                    u = read_uint(address, width)
                    if u < np.uint64(2147483648):
                        dst = put_long(dst, np.int64(u))
                    else:
                        poke(dst, LONG1 | (9 << 8), np.uint16)
                        poke(dst + 2, u, np.uint64)
                        poke(dst + 10, 0, np.uint8)  # the sign byte: positive
                        dst += 11
                else:  # K_CAT
                    code = np.int64(read_uint(address, width))
                    text, length = view_text(p1s[c] + 16 * code, buf_base + 8 * p2s[c])
                    dst = put_unicode(dst, text, length)
            if template:  # keep (template,) in the memo, off the stack
                poke(dst, SETITEMS | (TUPLE1 << 8) | (MEMOIZE << 16) | (POP << 24), np.uint32)
                dst += 4
            elif dst == marked:  # nothing differs: no MARK, no SETITEMS
                dst -= 1
            else:
                poke(dst, SETITEMS, np.uint8)
                dst += 1
        poke(dst, APPENDS | (STOP << 8), np.uint16)
        dst += 2
        used = dst - base
    starts[chunks] = used
    return out
