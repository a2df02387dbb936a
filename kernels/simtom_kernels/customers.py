"""Customers in simulated time: which customer makes record ``k``, as a pure function of ``k``.

The population is a set of *lanes* in a few activity *strata*. A lane hosts one customer at a
time; a stratum's lanes take part in *rounds* (a round of stratum ``s`` is ``K[s]`` of its
records, and exactly ``K[s]`` of its ``P[s] = 2 K[s]`` lanes purchase once in it), so a customer's
purchases are a renewal process in its own time: a lane buys in half of its stratum's rounds, a
round lasts ``K[s]`` records of the stratum, and the strata's round lengths are set from the
scenario's rate, so the gaps between a customer's purchases are days to months of simulated time
whatever the rate. A lane's customers come and go: its rounds are cut into *generations* of a
lane-specific lifetime, and each generation is a new customer, who existed before the records
of its first purchase (and before a stream's start, for the customers of round 0).

Everything is a bijection on small integers, in both directions and O(1):

- record ``k`` -> stratum ``s`` and the stratum's own record number ``ks``: ``k`` is cut into
  super-rounds of ``SUPER`` records in which stratum ``s`` has ``W[s]`` places, spread evenly
  by a fixed pattern (the same in every super-round, so ``ks`` grows with ``k``: a customer's
  purchases are in the order of its rounds);
- ``ks`` -> round ``r = ks // K[s]`` and place ``ks % K[s]`` -> lane, through round ``r``'s keyed
  permutation of the stratum's lanes (places below ``K[s]`` purchase);
- and back: whether lane ``c`` purchases in round ``r``, and as which record.

So a record's customer, and the customer's earlier and later purchases, need no memory and no
look at other records: a block is the same whatever came before it. Rounds before 0 are a
stream's pre-history (their records are never made, but they count as the customer's past).

The population's figures come in the integer and float parameter vectors of the feature kernel
(``simtom_kernels.bnpl``, slots ``I_POP`` and ``F_LIFE``), built by ``simtom.bnpl.population``.
Functions take the stream keys of ``round_stream`` and ``lane_stream``, hashed once per call of
a kernel rather than once per record.
"""

from __future__ import annotations

import math

import numpy as np

from ._jit import helper, inline, jit
from .rng import bits, key_base, stream_key, uniform

i64 = np.int64

STREAM_ROUND = i64(212)  # each (round, stratum)'s permutation of lanes
STREAM_LANE = i64(213)  # each lane's lifetime and phase

#: Strata of activity; records per super-round (the strata's places repeat with this period).
STRATA = 8
SUPER = 4096
#: A lane buys in this share of its stratum's rounds (exactly: K of 2K lanes per round).
PARTICIPATION = 0.5
#: Rounds a look for the customer's previous or next purchase gives up after (a gap is longer
#: with probability 2^-MAX_SCAN).
MAX_SCAN = 256
#: No such record (a purchase before the stream has a negative record number).
NONE = i64(-(1 << 62))
#: No generations (a fixed population): the generation's first round.
FOREVER = i64(-(1 << 40))
#: Lifetimes' spread across lanes: this many equally likely factors (quantiles of a log-normal).
LIFE_QUANTILES = 256

# Per-stratum integer slots, from I_POP: stratum s's row is I_POP + s * POP_ROW.
POP_W = i64(0)  # places in each super-round
POP_CUMW = i64(1)  # first place in the super-round
POP_K = i64(2)  # purchases per round
POP_P = i64(3)  # lanes
POP_BITS = i64(4)  # bits of the lane permutation's domain (2^bits >= P)
POP_LANE0 = i64(5)  # the stratum's first lane number (lanes are numbered across strata)
POP_ROW = i64(6)
# After the strata's rows: the super-round's pattern, SUPER codes (stratum + STRATA × its place
# among the stratum's places), then each stratum's places in order (SUPER positions, stratum s's
# from POP_CUMW[s]).
POP_SIZE = STRATA * POP_ROW + 2 * SUPER
# Float slots, from F_LIFE: each stratum's median lifetime in rounds (0: no generations), then
# the LIFE_QUANTILES factors.
LIFE_SIZE = STRATA + LIFE_QUANTILES


@helper
def round_stream(seed):  # type: ignore[no-untyped-def]
    return stream_key(seed, STREAM_ROUND)


@helper
def lane_stream(seed):  # type: ignore[no-untyped-def]
    return stream_key(seed, STREAM_LANE)


#: The round function's multiplier (2^64 / golden ratio, odd) and the step keys' spacing.
MIX = np.uint64(0x9E3779B97F4A7C15)
STEP = np.uint64(0xD1B54A32D192ED03)


@inline
def _round(v, key, i):  # type: ignore[no-untyped-def]
    """Step ``i``'s round function of the permutation: a multiplicative hash of ``v`` under the
    step's key (one multiply and a fold of the high half: a Feistel round needs no more; a full
    mix per step cost the feature kernel ~40 ns a record, 511 -> 471 ns measured)."""
    h = (np.uint64(v) ^ (key + np.uint64(i + 1) * STEP)) * MIX
    return h ^ (h >> np.uint64(29))


@inline
def _step(x, low_bits, mask, key, i):  # type: ignore[no-untyped-def]
    """Step ``i`` of the permutation: even steps change the high part from the low one, odd
    steps the low part from the high one (each step undoes itself)."""
    lo = x & ((i64(1) << low_bits) - 1)
    hi = x >> low_bits
    if i % 2 == 0:
        hi ^= np.int64(_round(lo, key, i) & np.uint64(mask[0]))
    else:
        lo ^= np.int64(_round(hi, key, i) & np.uint64(mask[1]))
    return (hi << low_bits) | lo


@inline
def _scramble(x, n_bits, key, forward):  # type: ignore[no-untyped-def]
    """A keyed permutation of [0, 2^n_bits): four steps of an unbalanced Feistel network
    without swaps (each half is mixed twice), or its inverse."""
    low_bits = n_bits - n_bits // 2
    masks = ((i64(1) << (n_bits // 2)) - 1, (i64(1) << low_bits) - 1)
    if forward:
        for i in range(4):
            x = _step(x, low_bits, masks, key, i)
    else:
        for i in range(3, -1, -1):
            x = _step(x, low_bits, masks, key, i)
    return x


@inline
def permute(x, n, n_bits, key):  # type: ignore[no-untyped-def]
    """A keyed permutation of [0, n), 2^n_bits >= n (cycle walking: under two steps on average,
    since 2^n_bits < 2n)."""
    y = _scramble(x, n_bits, key, True)
    while y >= n:
        y = _scramble(y, n_bits, key, True)
    return y


@inline
def unpermute(y, n, n_bits, key):  # type: ignore[no-untyped-def]
    """The inverse of :func:`permute`."""
    x = _scramble(y, n_bits, key, False)
    while x >= n:
        x = _scramble(x, n_bits, key, False)
    return x


@inline
def floor_div(a, b):  # type: ignore[no-untyped-def]
    """``a // b`` rounded down for negative ``a`` too (b > 0)."""
    q = a // b
    if q * b > a:
        q -= 1
    return q


@inline
def stratum_of(k, ip, i_pop):  # type: ignore[no-untyped-def]
    """Record ``k``'s stratum and its number among the stratum's records: (s, ks)."""
    rho = floor_div(k, i64(SUPER))
    code = ip[i_pop + STRATA * POP_ROW + k - rho * SUPER]
    s = code % STRATA
    return s, rho * ip[i_pop + s * POP_ROW + POP_W] + code // STRATA


@inline
def record_of(s, ks, ip, i_pop):  # type: ignore[no-untyped-def]
    """The record number of stratum ``s``'s record ``ks`` (the inverse of :func:`stratum_of`)."""
    row = i_pop + s * POP_ROW
    w = ip[row + POP_W]
    rho = floor_div(ks, w)
    return rho * SUPER + ip[i_pop + STRATA * POP_ROW + SUPER + ip[row + POP_CUMW] + ks - rho * w]


@inline
def place_in_round(s, r, lane, rkey, ip, i_pop):  # type: ignore[no-untyped-def]
    """Lane ``lane``'s place in round ``r`` of stratum ``s``: it purchases there if the place
    is below ``K[s]``, as the stratum's record ``r * K[s] + place``."""
    row = i_pop + s * POP_ROW
    return permute(lane, ip[row + POP_P], ip[row + POP_BITS], key_base(rkey, r * STRATA + s))


@inline
def lane_of(s, ks, rkey, ip, i_pop):  # type: ignore[no-untyped-def]
    """The round and lane of stratum ``s``'s record ``ks``: (r, lane)."""
    row = i_pop + s * POP_ROW
    k_s = ip[row + POP_K]
    r = floor_div(ks, k_s)
    lane = unpermute(ks - r * k_s, ip[row + POP_P], ip[row + POP_BITS],
                     key_base(rkey, r * STRATA + s))
    return r, lane


@inline
def generation(s, r, lane, lkey, ip, i_pop, fp, f_life):  # type: ignore[no-untyped-def]
    """The generation of lane ``lane`` at round ``r``, the round it began and its length in
    rounds: (g, start, length).

    A lane's lifetime, in rounds, is the stratum's median (``F_LIFE[s]``) times one of the
    ``LIFE_QUANTILES`` factors, rounded, at least 1; its generations are consecutive spans of
    that many rounds, shifted by a lane-specific phase, so customers of every tenure are
    present at any round. A median of 0 means no generations: the lane is one customer for
    ever (its first round ``FOREVER``).
    """
    life = fp[f_life + s]
    if life <= 0.0:
        return i64(0), FOREVER, i64(0)
    lb = key_base(lkey, ip[i_pop + s * POP_ROW + POP_LANE0] + lane)
    factor = fp[f_life + STRATA + np.int64(bits(lb, i64(0)) >> np.uint64(56))]
    length = max(i64(1), np.int64(math.floor(life * factor + 0.5)))
    phase = np.int64(math.floor(uniform(lb, i64(1)) * length))
    g = floor_div(r + phase, length)
    return g, g * length - phase, length


@helper
def previous_round(s, r, lane, since, rkey, ip, i_pop):  # type: ignore[no-untyped-def]
    """The latest round before ``r`` (and not before ``since``) in which the lane purchased,
    or ``since - 1`` if none (looking back at most ``MAX_SCAN`` rounds)."""
    k_s = ip[i_pop + s * POP_ROW + POP_K]
    stop = max(since, r - MAX_SCAN)
    q = r - 1
    while q >= stop:
        if place_in_round(s, q, lane, rkey, ip, i_pop) < k_s:
            return q
        q -= 1
    return since - 1


@helper
def next_round(s, r, lane, rkey, ip, i_pop):  # type: ignore[no-untyped-def]
    """The first round after ``r`` in which the lane purchases (at most ``MAX_SCAN`` on;
    ``r + MAX_SCAN + 1`` if none), ignoring generations."""
    k_s = ip[i_pop + s * POP_ROW + POP_K]
    q = r + 1
    while q <= r + MAX_SCAN:
        if place_in_round(s, q, lane, rkey, ip, i_pop) < k_s:
            return q
        q += 1
    return q


@inline
def customer_of(k, rkey, lkey, ip, i_pop, fp, f_life):  # type: ignore[no-untyped-def]
    """Record ``k``'s customer as (stratum, round, lane, generation, generation's first round,
    its length in rounds)."""
    s, ks = stratum_of(k, ip, i_pop)
    r, lane = lane_of(s, ks, rkey, ip, i_pop)
    g, since, length = generation(s, r, lane, lkey, ip, i_pop, fp, f_life)
    return s, r, lane, g, since, length


@inline
def customer_number(s, lane, g, ip, i_pop):  # type: ignore[no-untyped-def]
    """The customer's number (``cust_...``): its lane's number plus the generation × all lanes."""
    return g * ip[i_pop - 1] + ip[i_pop + s * POP_ROW + POP_LANE0] + lane


@helper
def purchase_record(s, r, lane, rkey, ip, i_pop):  # type: ignore[no-untyped-def]
    """The record of lane ``lane``'s purchase in round ``r`` (it must purchase there)."""
    k_s = ip[i_pop + s * POP_ROW + POP_K]
    return record_of(s, r * k_s + place_in_round(s, r, lane, rkey, ip, i_pop), ip, i_pop)


@jit
def neighbours(seed, ip, i_pop, fp, f_life, records, previous,
               following):  # type: ignore[no-untyped-def]
    """For each record, the record of the same customer's previous and next purchase (``NONE``
    where the customer has none: a first or last purchase, or one further than ``MAX_SCAN``
    rounds). A previous purchase before the stream has a negative record number."""
    rkey = round_stream(seed)
    lkey = lane_stream(seed)
    for i in range(records.shape[0]):
        s, r, lane, g, since, _ = customer_of(records[i], rkey, lkey, ip, i_pop, fp, f_life)
        q = previous_round(s, r, lane, since, rkey, ip, i_pop)
        previous[i] = purchase_record(s, q, lane, rkey, ip, i_pop) if q >= since else NONE
        q = next_round(s, r, lane, rkey, ip, i_pop)
        g2, _, _ = generation(s, q, lane, lkey, ip, i_pop, fp, f_life)
        following[i] = (purchase_record(s, q, lane, rkey, ip, i_pop)
                        if q <= r + MAX_SCAN and g2 == g else NONE)


@jit
def customers(seed, ip, i_pop, fp, f_life, records, out):  # type: ignore[no-untyped-def]
    """Each record's customer number (as the feature kernel writes it)."""
    rkey = round_stream(seed)
    lkey = lane_stream(seed)
    for i in range(records.shape[0]):
        s, _, lane, g, _, _ = customer_of(records[i], rkey, lkey, ip, i_pop, fp, f_life)
        out[i] = customer_number(s, lane, g, ip, i_pop)
