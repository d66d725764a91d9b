"""Suppliers allocate the day's orders (step 5c): trade gates filter first, then a short
supplier splits its free stock pro rata, or tier by tier when it has an
``allocation.priority`` (contract 10.3); licensed lanes go to review, others ship. Licence
decisions taken today without review, under a quota shared by several lanes, are made at
the end, before the goods ship."""
from __future__ import annotations

from .ledger import EPS, Ledger
from .licences import Licensing
from .shipping import Lane, Shipping

Tiers = tuple[tuple[Lane, ...], ...]


def _tiers(lanes: list[Lane], lane_rank: dict[int, int]) -> Tiers | None:
    """A supplier's lanes grouped by priority tier, first served first (None: one tier, pro rata)."""
    ranks = sorted({lane_rank.get(lane.index, 0) for lane in lanes})
    if len(ranks) < 2:
        return None
    return tuple(tuple(lane for lane in lanes if lane_rank.get(lane.index, 0) == r) for r in ranks)


def _serve_by_priority(tiers: Tiers, avail: float) -> None:
    """Cut each lane's admitted order (``Lane.req``) to what ``avail`` units serve, tier by
    tier: a tier is filled in full while stock lasts, pro rata within the tier that
    exhausts it; later tiers get nothing."""
    left = avail
    for tier in tiers:
        need = 0.0
        for lane in tier:
            need += lane.req
        if need <= 0.0:
            continue
        if left <= EPS:
            for lane in tier:
                lane.req = 0.0
            continue
        if need > left:
            fill = left / need
            for lane in tier:
                lane.req *= fill
            need = left
        left -= need


class Allocation:
    """The day's allocation at every supplier, over its outgoing lanes."""

    __slots__ = ("ledger", "shipping", "licensing", "horizon", "_suppliers")

    def __init__(self, ledger: Ledger, shipping: Shipping, licensing: Licensing, lanes: list[Lane], horizon: int,
                 lane_rank: dict[int, int] | None = None):
        """``lane_rank``: priority tier of the lanes out of suppliers with ``allocation.priority``
        (``Network.lane_rank``); other suppliers split pro rata."""
        self.ledger = ledger
        self.shipping = shipping
        self.licensing = licensing
        self.horizon = horizon
        by_supplier: dict[int, list[Lane]] = {}
        for lane in lanes:
            by_supplier.setdefault(lane.src, []).append(lane)
        rank = lane_rank or {}
        self._suppliers = [(src, out, _tiers(out, rank) if rank else None) for src, out in by_supplier.items()]

    def allocate(self, day: int) -> None:
        """Step 5c: gates filter ``Lane.req``; suppliers fill pro rata (or by priority) when short.

        ``Ledger.requested`` of a supplier's slot becomes today's admitted orders (units),
        0 when none came."""
        led = self.ledger
        inv, locked, shipped, pipeline, cost, requested, flow = (led.inv, led.locked, led.shipped, led.pipeline, led.cost,
                                                                  led.requested, led.flow)
        arrivals, apply, H = self.shipping.arrivals, self.licensing.apply, self.horizon
        for src, lanes, tiers in self._suppliers:
            total = 0.0
            for lane in lanes:
                r = lane.req
                if r:
                    if lane.gates:
                        for gate in lane.gates:
                            r = gate.admit(lane, r, day)
                            if r <= 0.0:
                                r = 0.0
                                break
                        lane.req = r
                    total += r
            requested[src] = total  # 0 too: a make-to-stock producer averages every day's requests
            if total <= 0.0:
                continue
            avail = inv[src] - locked[src]
            if avail <= EPS:
                for lane in lanes:
                    lane.req = 0.0
                continue
            fill = 1.0 if avail >= total else avail / total
            if tiers is not None and fill < 1.0:
                _serve_by_priority(tiers, avail)  # cuts each lane's req to its share
                fill = 1.0
            for lane in lanes:
                r = lane.req
                if r:
                    lane.req = 0.0
                    q = r * fill
                    # on a gated lane what is left is the leaked part (contract 10.4): it ships
                    # as a normal shipment, outside the licence (no review, quota or fee)
                    if lane.licence is not None and not lane.gates:
                        apply(lane, q, day)
                        continue
                    # inline rather than Shipping.depart: this is the hottest loop of the day
                    dst = lane.dst
                    inv[src] -= q
                    shipped[src] += q
                    flow[lane.index] += q
                    pipeline[dst] += q
                    cost[dst] += q * lane.price
                    t = day + (lane.fixed_lead or lane.next_lead())
                    if t < H:
                        due = arrivals.get(t)
                        if due is None:
                            arrivals[t] = [(dst, q)]
                        else:
                            due.append((dst, q))
            if inv[src] < 0.0:  # rounding dust from the pro-rata split
                inv[src] = 0.0
        # applications that need no review under a shared quota are decided together, once
        # every supplier has allocated, so that the lanes share the quota (section 8)
        self.licensing.decide_today(day)
