"""Suppliers allocate the day's orders (step 5c): trade gates filter first, then a short
supplier splits its free stock pro rata; licensed lanes go to review, others ship. Licence
decisions taken today without review, under a quota shared by several lanes, are made at
the end, before the goods ship."""
from __future__ import annotations

from .ledger import EPS, Ledger
from .licences import Licensing
from .shipping import Lane, Shipping


class Allocation:
    """The day's allocation at every supplier, over its outgoing lanes."""

    __slots__ = ("ledger", "shipping", "licensing", "horizon", "_suppliers")

    def __init__(self, ledger: Ledger, shipping: Shipping, licensing: Licensing, lanes: list[Lane], horizon: int):
        self.ledger = ledger
        self.shipping = shipping
        self.licensing = licensing
        self.horizon = horizon
        by_supplier: dict[int, list[Lane]] = {}
        for lane in lanes:
            by_supplier.setdefault(lane.src, []).append(lane)
        self._suppliers = list(by_supplier.items())

    def allocate(self, day: int) -> None:
        """Step 5c: gates filter ``Lane.req``; suppliers fill pro rata when short."""
        led = self.ledger
        inv, locked, shipped, pipeline, cost, requested, flow = (led.inv, led.locked, led.shipped, led.pipeline, led.cost,
                                                                  led.requested, led.flow)
        arrivals, apply, H = self.shipping.arrivals, self.licensing.apply, self.horizon
        for src, lanes in self._suppliers:
            total = 0.0
            for lane in lanes:
                r = lane.req
                if r:
                    if lane.gates:
                        for gate in lane.gates:
                            r = gate.admit(lane, r)
                            if r <= 0.0:
                                r = 0.0
                                break
                        lane.req = r
                    total += r
            if total <= 0.0:
                continue
            requested[src] = total
            avail = inv[src] - locked[src]
            if avail <= EPS:
                for lane in lanes:
                    lane.req = 0.0
                continue
            fill = 1.0 if avail >= total else avail / total
            for lane in lanes:
                r = lane.req
                if r:
                    lane.req = 0.0
                    q = r * fill
                    if lane.licence is not None:
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
