"""The compiled day loop (numba): the readable engine's steps 1-5 on flat numpy arrays.

Each function below mirrors one phase of the readable engine (``production``,
``equipment``, ``demand``, ``ordering``, ``allocation``, ``recorder``) operation by
operation, in the same order and with the same float expressions, so that the daily
series are bit-identical (``tests/test_kernel.py``). It runs a span of days between two
regime changes; ``sim.engine.fastpath`` packs the world into these arrays, lets SimPy
run the shocks and policies between spans, and says which networks it covers.

Ledger rows (``L[row, slot]``) follow ``ROWS``. Calendars (arrivals, tool installs) are
linked lists in a pool with a free list, so each day's entries keep their order of
arrival: ``head[day]``/``tail[day]`` index ``nxt``/``key``/``qty``; -1 ends a list.
"""
from __future__ import annotations

import numpy as np

try:  # pragma: no cover - exercised by whichever branch the machine has
    import numba
except ImportError:  # pragma: no cover
    numba = None  # type: ignore[assignment]

ROWS = ("inv", "locked", "held", "backlog", "pipeline", "received", "produced", "consumed", "shipped", "delivered",
        "demand", "shortfall", "cost", "energy", "requested")
INV, LOCKED, HELD, BACKLOG, PIPELINE, RECEIVED, PRODUCED, CONSUMED, SHIPPED, DELIVERED, DEMAND, SHORTFALL, COST, \
    ENERGY, REQUESTED = range(len(ROWS))
EPS = 1e-9   # as ``ledger.EPS``
WINDOW = 30  # as ``ordering._WINDOW``
# indices into the int64 state vector ``st``
ARR_FREE, INS_FREE = 0, 1


def _jit(fn):
    """numba.njit with an on-disk cache; without a writable cache, compiled per process;
    without numba, the plain Python function (``available()`` is then False)."""
    if numba is None:  # pragma: no cover
        return fn
    try:
        return numba.njit(cache=True)(fn)
    except RuntimeError:  # pragma: no cover - no writable cache location
        return numba.njit(fn)


def available() -> bool:
    """Whether the compiled kernel can run (numba is installed)."""
    return numba is not None


def ready() -> bool:
    """Whether starting the kernel is cheap: compiled in this process, or compiled code
    cached on disk (numba's index file of ``run_days``; a stale cache recompiles)."""
    if numba is None:  # pragma: no cover
        return False
    if run_days.signatures:
        return True
    try:
        import os
        return os.path.exists(run_days._cache._cache_file._index_path)
    except AttributeError:  # pragma: no cover - numba internals moved: treat as not cached
        return False


def new_calendar(horizon: int, pool: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """An empty calendar: (head, tail, nxt, key, qty) with ``pool`` entries on the free list."""
    nxt = np.arange(1, pool + 1, dtype=np.int64)
    nxt[-1] = -1
    return (np.full(horizon + 1, -1, np.int64), np.full(horizon + 1, -1, np.int64), nxt,
            np.zeros(pool, np.int64), np.zeros(pool))


@_jit
def push(head, tail, nxt, key, qty, st, which, day, k, q):  # pragma: no cover - compiled
    """Append (k, q) to the list of ``day``, taking an entry from the free list ``st[which]``."""
    e = st[which]
    st[which] = nxt[e]
    key[e] = k
    qty[e] = q
    nxt[e] = -1
    if head[day] < 0:
        head[day] = e
    else:
        nxt[tail[day]] = e
    tail[day] = e


@_jit
def arrive(L, day, head, tail, nxt, key, qty, st, tool_of_slot, t_install, ihead, itail, inxt, ikey, iqty):  # pragma: no cover
    """Step 2: shipments due today reach their slots; new tools go to installation."""
    e = head[day]
    while e >= 0:
        s = key[e]
        q = qty[e]
        L[INV, s] += q
        L[RECEIVED, s] += q
        L[PIPELINE, s] -= q
        t = tool_of_slot[s]
        if t >= 0 and day + t_install[t] < len(ihead) - 1:  # installed after the horizon: never
            push(ihead, itail, inxt, ikey, iqty, st, INS_FREE, day + t_install[t], t, q)
        n = nxt[e]
        nxt[e] = st[ARR_FREE]
        st[ARR_FREE] = e
        e = n
    head[day] = -1


@_jit
def install_and_repair(L, day, H, capacity, nominal, t_slot, t_spares, t_installed, t_failed, t_blocked, t_required,
                       g_ptr, g_producer, ihead, itail, inxt, ikey, iqty, st):  # pragma: no cover
    """Step 3a: install arrived tools, repair failed ones from spares, gate capacity."""
    e = ihead[day]
    ihead[day] = -1
    while e >= 0:
        t = ikey[e]
        q = iqty[e]
        s = t_slot[t]
        free = L[INV, s] - L[LOCKED, s]
        now = q if q < free else (0.0 if 0.0 > free else free)
        if now > 0.0:
            L[INV, s] -= now
            L[CONSUMED, s] += now
            t_installed[t] += now
        n = inxt[e]
        inxt[e] = st[INS_FREE]
        st[INS_FREE] = e
        if q - now > EPS and day + 1 < H:
            push(ihead, itail, inxt, ikey, iqty, st, INS_FREE, day + 1, t, q - now)
        e = n
    for g in range(len(g_producer)):
        k = g_producer[g]
        share = 1.0
        for t in range(g_ptr[g], g_ptr[g + 1]):
            sp = t_spares[t]
            if t_failed[t] > 0.0 and sp >= 0 and not t_blocked[t]:
                free = L[INV, sp] - L[LOCKED, sp]
                fix = free if free < t_failed[t] else t_failed[t]
                if fix > 0.0:
                    L[INV, sp] -= fix
                    L[CONSUMED, sp] += fix
                    t_installed[t] += fix
                    t_failed[t] -= fix
            ratio = t_installed[t] / t_required[t, day]
            if ratio < share:
                share = ratio
        capacity[k] = nominal[k] * share


@_jit
def produce(L, day, capacity, wafers, in_ptr, in_slot, in_amt, out_slot, fab_good):  # pragma: no cover
    """Step 3b: min(capacity, what the inputs allow); fabs (rows of ``fab_good`` not NaN) make good dies."""
    for k in range(len(out_slot)):
        q = capacity[k]
        for j in range(in_ptr[k], in_ptr[k + 1]):
            s, a = in_slot[j], in_amt[j]
            avail = L[INV, s] - L[LOCKED, s]
            if avail < q * a:
                q = avail / a if avail > 0.0 else 0.0
        fab = not np.isnan(fab_good[k, 0])
        if q > 0.0:
            for j in range(in_ptr[k], in_ptr[k + 1]):
                s, a = in_slot[j], in_amt[j]
                use = q * a
                L[INV, s] -= use
                L[CONSUMED, s] += use
                if L[INV, s] < 0.0:
                    L[INV, s] = 0.0
            if fab:
                wafers[k] = q
                q = q * fab_good[k, day]
            o = out_slot[k]
            L[INV, o] += q
            L[PRODUCED, o] += q
        elif fab:
            wafers[k] = 0.0


@_jit
def wear(t_installed, t_failed, t_attrition):  # pragma: no cover
    """Step 3c: expected attrition of installed tools."""
    for t in range(len(t_installed)):
        if t_attrition[t] <= 0.0 or t_installed[t] <= 0.0:
            continue
        lost = t_installed[t] * t_attrition[t]
        if lost:
            t_installed[t] -= lost
            t_failed[t] += lost


@_jit
def serve_plain(L, day, d_slot, d_carry, draws):  # pragma: no cover
    """Step 4, plain demand: backlog first (oldest first), then today's demand."""
    for i in range(len(d_slot)):
        s = d_slot[i]
        want = draws[i, day]
        avail = L[INV, s] - L[LOCKED, s]
        owed = L[BACKLOG, s]
        old = owed if owed < avail else avail
        if old < 0.0:
            old = 0.0
        avail -= old
        new = want if want < avail else (avail if avail > 0.0 else 0.0)
        L[INV, s] -= old + new
        if L[INV, s] < 0.0:
            L[INV, s] = 0.0
        L[DELIVERED, s] += old + new
        L[DEMAND, s] += want
        short = want - new
        if short < EPS:
            short = 0.0
        L[SHORTFALL, s] += short
        L[BACKLOG, s] = owed - old + short if d_carry[i] else 0.0


@_jit
def serve_compute(L, m, carry, want, min_domestic, s_slot, s_value, s_domestic, s_power):  # pragma: no cover
    """Step 4, one compute demand node (measure slot ``m``): substitutes in order, domestic
    share at least ``min_domestic`` (NaN: no mandate)."""
    owed = L[BACKLOG, m]
    domestic = 0.0
    foreign = 0.0
    for j in range(len(s_slot)):
        x = L[INV, s_slot[j]] - L[LOCKED, s_slot[j]]
        avail = (x if x > 0.0 else 0.0) * s_value[j]
        if s_domestic[j]:
            domestic += avail
        else:
            foreign += avail
    a, b = owed + want, domestic + foreign
    total = b if b < a else a
    budget = np.inf
    if not np.isnan(min_domestic):
        if min_domestic > 0.0:
            c = domestic / min_domestic
            total = c if c < total else total
        c = (1.0 - min_domestic) * total
        budget = c if c < foreign else foreign
    left = total
    for j in range(len(s_slot)):
        if left <= EPS:
            break
        s = s_slot[j]
        x = L[INV, s] - L[LOCKED, s]
        avail = (x if x > 0.0 else 0.0) * s_value[j]
        if not s_domestic[j]:
            avail = budget if budget < avail else avail
        take = left if left < avail else avail
        if take <= 0.0:
            continue
        units = take / s_value[j]
        L[INV, s] -= units
        if L[INV, s] < 0.0:
            L[INV, s] = 0.0
        L[DELIVERED, s] += units
        L[ENERGY, m] += units * s_power[j] * 24.0 / 1000.0
        left -= take
        if not s_domestic[j]:
            budget -= take
    served = total - (0.0 if 0.0 > left else left)
    old = served if served < owed else owed
    short = want - (served - old)
    if short < EPS:
        short = 0.0
    L[DEMAND, m] += want
    L[DELIVERED, m] += served
    L[SHORTFALL, m] += short
    L[BACKLOG, m] = owed - old + short if carry else 0.0


@_jit
def place(L, day, H, req, o_slot, o_level, o_cover, o_boost, o_path, o_watch, o_tool, o_lptr, o_lane, o_share,
          w_hist_sum, w_asked_sum, t_required, t_lookahead, t_installed, t_failed, t_spares, t_blocked):  # pragma: no cover
    """Step 5b for the order lines: order up to the level on the inventory position
    (``o_level`` NaN: days of cover; ``o_watch`` >= 0: a warehouse, its row of the history)."""
    for i in range(len(o_slot)):
        s = o_slot[i]
        w = o_watch[i]
        if w >= 0:
            if day:
                used = w_hist_sum[w] if w_hist_sum[w] > EPS else w_asked_sum[w]
                use = used / (day if day < WINDOW else WINDOW)
            else:
                use = 0.0
        else:
            use = o_path[i, day]
        level = o_level[i] if not np.isnan(o_level[i]) else o_cover[i] * use
        if o_boost[i] and o_boost[i] * use > level:
            level = o_boost[i] * use
        position = L[INV, s] - L[LOCKED, s] - L[BACKLOG, s] + L[PIPELINE, s]
        t = o_tool[i]
        if t >= 0:
            ahead = day + t_lookahead[t]
            level += t_required[t, ahead if ahead < H else H - 1]
            position += t_installed[t]
            sp = t_spares[t]
            if sp >= 0 and t_failed[t] > 0.0 and not t_blocked[t]:
                repairable = L[INV, sp] - L[LOCKED, sp] + L[PIPELINE, sp]
                position += t_failed[t] if t_failed[t] < repairable else (0.0 if 0.0 > repairable else repairable)
        q = level - position
        if q > EPS:
            for j in range(o_lptr[i], o_lptr[i + 1]):
                req[o_lane[j]] = q * o_share[j]


@_jit
def place_compute(L, day, req, c_measure, c_path, c_mptr, c_level, c_cover, c_boost, c_value, c_buys, c_lptr, c_lane,
                  c_share, c_hptr, c_hslot, c_hvalue):  # pragma: no cover
    """Step 5b for compute nodes: one gap in measure units, split equally over the
    substitutes bought through lanes (members ``c_mptr[g]..``, lanes ``c_lptr[member]..``)."""
    for g in range(len(c_measure)):
        use = c_path[g, day]
        level = 0.0
        for k in range(c_mptr[g], c_mptr[g + 1]):
            lv = c_level[k] if not np.isnan(c_level[k]) else c_cover[k] * use
            if c_boost[k] and c_boost[k] * use > lv:
                lv = c_boost[k] * use
            if k == c_mptr[g] or lv > level:
                level = lv
        position = -L[BACKLOG, c_measure[g]]
        for j in range(c_hptr[g], c_hptr[g + 1]):
            s = c_hslot[j]
            position += (L[INV, s] - L[LOCKED, s] + L[PIPELINE, s]) * c_hvalue[j]
        gap = level - position
        buying = 0
        for k in range(c_mptr[g], c_mptr[g + 1]):
            if c_buys[k]:
                buying += 1
        if gap > EPS and buying:
            for k in range(c_mptr[g], c_mptr[g + 1]):
                if c_buys[k]:
                    units = gap / buying / c_value[k]
                    for j in range(c_lptr[k], c_lptr[k + 1]):
                        req[c_lane[j]] = units * c_share[j]


@_jit
def serve_by_priority(req, lanes, t_ptr, avail):  # pragma: no cover
    """As ``allocation._serve_by_priority``: tiers (``lanes[t_ptr[i]:t_ptr[i + 1]]``) filled in turn."""
    left = avail
    for i in range(len(t_ptr) - 1):
        need = 0.0
        for j in range(t_ptr[i], t_ptr[i + 1]):
            need += req[lanes[j]]
        if need <= 0.0:
            continue
        if left <= EPS:
            for j in range(t_ptr[i], t_ptr[i + 1]):
                req[lanes[j]] = 0.0
            continue
        if need > left:
            fill = left / need
            for j in range(t_ptr[i], t_ptr[i + 1]):
                req[lanes[j]] *= fill
            need = left
        left -= need


@_jit
def gate(req, ln, cap):  # pragma: no cover
    """Trade gates of lane ``ln`` today: at most ``cap`` (units); nothing if that is not positive."""
    r = req[ln]
    r = r if r < cap else cap
    if r <= 0.0:
        r = 0.0
    req[ln] = r
    return r


@_jit
def allocate(L, day, H, req, flow, u_src, u_ptr, u_lane, u_tb, tb, tl, l_dst, l_price, l_fixed, lead_buf, lead_pos,
             gate_row, caps, d0, head, tail, nxt, key, qty, st):  # pragma: no cover
    """Step 5c: gates cut ``req``; each supplier ``u`` fills its lanes ``u_lane[u_ptr[u]:..]``
    pro rata when short, or by priority tiers when it has some (tier bounds
    ``tb[u_tb[u]:u_tb[u + 1]]`` into the tier lanes ``tl``); shipments join the arrival calendar."""
    for u in range(len(u_src)):
        src = u_src[u]
        a, b = u_ptr[u], u_ptr[u + 1]
        total = 0.0
        for j in range(a, b):
            ln = u_lane[j]
            if req[ln]:
                g = gate_row[ln]
                r = gate(req, ln, caps[g, day - d0]) if g >= 0 else req[ln]
                total += r
        L[REQUESTED, src] = total
        if total <= 0.0:
            continue
        avail = L[INV, src] - L[LOCKED, src]
        if avail <= EPS:
            for j in range(a, b):
                req[u_lane[j]] = 0.0
            continue
        fill = 1.0 if avail >= total else avail / total
        if u_tb[u + 1] > u_tb[u] and fill < 1.0:
            serve_by_priority(req, tl, tb[u_tb[u]:u_tb[u + 1]], avail)
            fill = 1.0
        for j in range(a, b):
            ln = u_lane[j]
            r = req[ln]
            if r:
                req[ln] = 0.0
                q = r * fill
                dst = l_dst[ln]
                L[INV, src] -= q
                L[SHIPPED, src] += q
                flow[ln] += q
                L[PIPELINE, dst] += q
                L[COST, dst] += q * l_price[ln]
                lead = l_fixed[ln]
                if not lead:
                    lead = lead_buf[ln, lead_pos[ln]]
                    lead_pos[ln] += 1
                t = day + lead
                if t < H:
                    push(head, tail, nxt, key, qty, st, ARR_FREE, t, dst, q)
        if L[INV, src] < 0.0:
            L[INV, src] = 0.0


@_jit
def remember(L, day, w_slot, w_hist, w_hist_sum, w_asked, w_asked_sum, w_first):  # pragma: no cover
    """After allocation: warehouses add today's shipments and requests to their 30-day history."""
    ring = day % WINDOW
    for w in range(len(w_slot)):
        s = w_slot[w]
        w_hist_sum[w] += L[SHIPPED, s] - w_hist[w, ring]
        w_hist[w, ring] = L[SHIPPED, s]
        w_asked_sum[w] += L[REQUESTED, s] - w_asked[w, ring]
        w_asked[w, ring] = L[REQUESTED, s]
        L[REQUESTED, s] = 0.0
    if day == WINDOW - 1:
        for w in range(len(w_slot)):
            w_first[w] = w_hist_sum[w] / WINDOW


@_jit
def record(L, day, values, kind, src, idx, clear_rows, flow, capacity, wafers, t_installed):  # pragma: no cover
    """The end of the day: write every reported series (``Network.series``) into its
    column of ``values`` (kind 0: ledger row ``src`` at slot ``idx``; 1: lane flow; 2:
    producer capacity; 3: wafers started; 4: tools installed; other kinds are filled
    before or after the run), then clear the daily flows."""
    row = values[day]
    for k in range(len(kind)):
        c = kind[k]
        if c == 0:
            row[k] = L[src[k], idx[k]]
        elif c == 1:
            row[k] = flow[idx[k]]
        elif c == 2:
            row[k] = capacity[idx[k]]
        elif c == 3:
            row[k] = wafers[idx[k]]
        elif c == 4:
            row[k] = t_installed[idx[k]]
    for r in clear_rows:
        L[r, :] = 0.0
    flow[:] = 0.0


@_jit
def run_days(d0, d1, H, state, cal, prod, tools, dem, comp, orders, cgroups, sup, lanes, wh, rec):  # pragma: no cover
    """Days ``d0 .. d1 - 1`` of the contract's day order (the tuples are packed by
    ``sim.engine.fastpath``; shocks and policies act between spans, in SimPy)."""
    L, st, req, flow = state
    head, tail, nxt, key, qty, ihead, itail, inxt, ikey, iqty = cal
    cap_path, capacity, nominal, wafers, in_ptr, in_slot, in_amt, out_slot, fab_good = prod
    (t_slot, t_spares, t_installed, t_failed, t_blocked, t_required, t_attrition, t_install, t_lookahead,
     tool_of_slot, g_ptr, g_producer) = tools
    d_slot, d_carry, draws = dem
    cm_slot, cm_carry, cm_draws, cm_mindom, cm_ptr, s_slot, s_value, s_domestic, s_power = comp
    o_slot, o_level, o_cover, o_boost, o_path, o_watch, o_tool, o_lptr, o_lane, o_share = orders
    (c_measure, c_path, c_mptr, c_level, c_cover, c_boost, c_value, c_buys, c_lptr, c_lane, c_share, c_hptr, c_hslot,
     c_hvalue) = cgroups
    u_src, u_ptr, u_lane, u_tb, tb, tl = sup
    l_dst, l_price, l_fixed, lead_buf, lead_pos, gate_row, caps = lanes
    w_slot, w_hist, w_hist_sum, w_asked, w_asked_sum, w_first = wh
    values, kind, src, idx, clear_rows = rec
    has_tools = len(t_slot) > 0
    for day in range(d0, d1):
        for k in range(len(capacity)):  # 1. today's capacity
            capacity[k] = cap_path[k, day]
            nominal[k] = cap_path[k, day]
        arrive(L, day, head, tail, nxt, key, qty, st, tool_of_slot, t_install, ihead, itail, inxt, ikey, iqty)
        if has_tools:  # 3. tools gate capacity, producers make, tools wear
            install_and_repair(L, day, H, capacity, nominal, t_slot, t_spares, t_installed, t_failed, t_blocked,
                               t_required, g_ptr, g_producer, ihead, itail, inxt, ikey, iqty, st)
        produce(L, day, capacity, wafers, in_ptr, in_slot, in_amt, out_slot, fab_good)
        if has_tools:
            wear(t_installed, t_failed, t_attrition)
        serve_plain(L, day, d_slot, d_carry, draws)  # 4. demand
        for i in range(len(cm_slot)):
            a, b = cm_ptr[i], cm_ptr[i + 1]
            serve_compute(L, cm_slot[i], cm_carry[i], cm_draws[i, day], cm_mindom[i], s_slot[a:b], s_value[a:b],
                          s_domestic[a:b], s_power[a:b])
        place(L, day, H, req, o_slot, o_level, o_cover, o_boost, o_path, o_watch, o_tool, o_lptr, o_lane, o_share,
              w_hist_sum, w_asked_sum, t_required, t_lookahead, t_installed, t_failed, t_spares, t_blocked)
        place_compute(L, day, req, c_measure, c_path, c_mptr, c_level, c_cover, c_boost, c_value, c_buys, c_lptr,
                      c_lane, c_share, c_hptr, c_hslot, c_hvalue)
        allocate(L, day, H, req, flow, u_src, u_ptr, u_lane, u_tb, tb, tl, l_dst, l_price, l_fixed, lead_buf,
                 lead_pos, gate_row, caps, d0, head, tail, nxt, key, qty, st)
        remember(L, day, w_slot, w_hist, w_hist_sum, w_asked, w_asked_sum, w_first)
        record(L, day, values, kind, src, idx, clear_rows, flow, capacity, wafers, t_installed)
