"""Markets (contract section 11, step 4 of the day): a price per market product at each
demand node that draws it, and demand that responds to it. The rule, with worked
examples, is in docs/markets.md; in short, for one (demand node, market product) on day d:

- supply ratio s_d = min(1, free stock before serving / (notional demand x (1 + fee_d) **
  elasticity)), the demand the fee leaves (1 when it is 0);
- f_d = mean of s over the ``window_days`` days before d (days before day 0 count as 1);
- multiplier M_d = clip(f_d ** (1 / elasticity), 1, max_multiplier);
- fee_d = licence fee on the node's inbound lanes of the product, weighted by their shares;
- price_d = base x M_d x (1 + fee_d); demand at price D_d = notional x (M_d (1 + fee_d)) ** elasticity;
- the node serves its backlog (demand at price only) then D_d; what it cannot serve of
  D_d is shortfall; notional - D_d is ``demand_destroyed``; ``demand`` stays notional.

The inbound lanes then carry the price base x M_d, so that goods dispatched on or after
step 4 of day d cost the buyer price_d a unit (the fee is booked on top, as before).

At a compute-demand node with priced substitutes (docs/markets.md, section 6) the same
window gives one multiplier from the node's supply in the measure (each substitute's stock
counted as the notional demand it serves at its fee, stock / (1 + F) ** elasticity); demand at the
scarcity price, notional x M_d ** elasticity, is offered to the substitutes cheapest per
measure unit first, and a substitute with fee F keeps (1 + F) ** elasticity of what it
is offered (the rest is destroyed); a mandate first offers its share to domestic ones.
"""
from __future__ import annotations

from typing import Any

from .ledger import EPS, Ledger
from .shipping import Lane


class Scarcity:
    """The window of a market's daily supply ratios and the multiplier it gives."""

    __slots__ = ("elasticity", "inverse", "cap", "floor", "window", "ratios", "total")

    def __init__(self, elasticity: float, max_multiplier: float, window_days: int):
        self.elasticity, self.inverse = elasticity, 1.0 / elasticity
        self.cap, self.window = max_multiplier, window_days
        self.floor = max_multiplier ** elasticity  # the mean supply ratio at which the cap binds
        self.ratios = [1.0] * window_days  # ring of the last window's supply ratios: day d at d % window
        self.total = float(window_days)    # their sum

    def multiplier(self) -> float:
        """Today's scarcity multiplier (ratio, 1 to the cap) from the window before today."""
        return self.scale(self.total / self.window)

    def scale(self, mean: float) -> float:
        """The multiplier (ratio, 1 to the cap) of a mean supply ratio ``mean`` (0-1)."""
        if mean >= 1.0 - 1e-12:  # a full window of supply (the running sum may carry rounding dust)
            return 1.0
        if mean <= self.floor:  # f ** (1/e) >= cap (compared this way, it cannot overflow)
            return self.cap
        mult = mean ** self.inverse
        return 1.0 if mult < 1.0 else (self.cap if mult > self.cap else mult)

    def remember(self, day: int, ratio: float) -> None:
        """Put today's supply ratio (0-1) in the window."""
        k = day % self.window
        dropped = self.ratios[k]
        self.ratios[k] = ratio
        # re-summed once a window, so that rounding dust cannot build up
        self.total = sum(self.ratios) if k == 0 else self.total + ratio - dropped


def lanes_fee(lanes: list[tuple[Lane, float]]) -> float:
    """Today's licence fee on weighted inbound lanes (share of value), weighted by the lanes' shares."""
    fee = 0.0
    for lane, weight in lanes:
        licence = lane.licence
        if licence is not None and licence.fee:
            fee += weight * licence.fee
    return fee


class OrderSignal:
    """``signal: orders`` (docs/markets.md, section 7): the window of what a market buyer's
    orders asked for and what they obtained (units a day), and the weight of their ratio."""

    __slots__ = ("weight", "window", "asked", "got", "asked_sum", "got_sum", "unfilled", "today", "before")

    def __init__(self, weight: float, window_days: int):
        """``weight``: w (0-1] of the order ratio in the mean supply ratio."""
        self.weight, self.window = weight, window_days
        self.asked, self.got = [0.0] * window_days, [0.0] * window_days  # rings: day d at d % window
        self.asked_sum = self.got_sum = 0.0
        self.unfilled = 0.0  # the part of yesterday's orders neither shipped nor under review (re-asked today)
        self.today = self.before = 0.0  # today's orders and the buyer's pipeline before allocation

    def ratio(self) -> float:
        """Obtained over asked in the window before today (0-1; 1 when nothing was asked)."""
        if self.asked_sum <= EPS:
            return 1.0
        r = self.got_sum / self.asked_sum
        return 1.0 if r >= 1.0 - 1e-12 else r

    def remember(self, day: int, asked: float, got: float) -> None:
        """Put today's new asks and departures (units) in the window."""
        k = day % self.window
        if k == 0:  # re-summed once a window, so that rounding dust cannot build up
            self.asked[k], self.got[k] = asked, got
            self.asked_sum, self.got_sum = sum(self.asked), sum(self.got)
            return
        self.asked_sum += asked - self.asked[k]
        self.got_sum += got - self.got[k]
        self.asked[k], self.got[k] = asked, got


class MarketLine(Scarcity):
    """One (demand node, market product): its window of supply ratios and its lanes."""

    __slots__ = ("slot", "carry", "draws", "base", "lanes", "orders", "thrift", "lasting", "use", "at_price_cover")

    def __init__(self, slot: int, carry: bool, draws: list[float], base: float, elasticity: float,
                 max_multiplier: float, window_days: int, lanes: list[tuple[Lane, float]],
                 orders: float | None = None, thrift: tuple[float, int] | None = None,
                 at_price_cover: bool = False):
        """``draws``: notional demand by day (units/day); ``base``: base price (currency/unit);
        ``lanes``: the inbound lanes of the product with their weights (summing to 1, or none);
        ``orders``: the weight of the order ratio (``signal: orders``), None for shelves only;
        ``thrift``: (share 0-1, recovery days) of lasting demand destruction, or None;
        ``at_price_cover``: the buyer's cover counts the use it keeps at today's price (section 10)."""
        super().__init__(elasticity, max_multiplier, window_days)
        self.slot, self.carry, self.draws = slot, carry, draws
        self.base = base
        self.lanes = lanes
        self.orders = OrderSignal(orders, window_days) if orders is not None and lanes else None
        self.thrift = thrift
        self.lasting = 0.0  # today's lasting cut (share of notional demand, 0-1)
        self.at_price_cover = at_price_cover
        self.use: list[float] | None = None  # with thrift or cover: at_price: the buyer's daily use by day, lowered

    def fee(self) -> float:
        """Today's licence fee on the inbound lanes (share of value), weighted by the lanes' shares."""
        return lanes_fee(self.lanes)

    def multiplier(self) -> float:
        """Today's multiplier: the shelves' window, or with ``signal: orders`` the mean
        (1 - w) x shelves + w x min(shelves, orders) (docs/markets.md, section 7)."""
        shelves = self.total / self.window
        o = self.orders
        if o is None:
            return self.scale(shelves)
        ratio = o.ratio()
        if ratio >= shelves:
            return self.scale(shelves)
        return self.scale((1.0 - o.weight) * shelves + o.weight * ratio)

    def keep(self, mult: float) -> float:
        """With ``thrift``: today's lasting cut L_d = max(share x (1 - mult^e), L_(d-1) -
        share / recovery_days, 0), returned as the share of notional demand it leaves (1 - L_d)."""
        assert self.thrift is not None, "keep() is only called on lines with thrift"
        share, days = self.thrift
        cut = share * (1.0 - mult ** self.elasticity) if mult > 1.0 else 0.0
        fading = self.lasting - share / days
        self.lasting = cut if cut >= fading else fading
        if self.lasting < 0.0:
            self.lasting = 0.0
        return 1.0 - self.lasting


def lane_weights(lanes: list[tuple[Lane, float]]) -> list[tuple[Lane, float]]:
    """Normalised weights of a market node's inbound lanes: their shares, or equal when
    every share is 0 (lanes that only a policy opens)."""
    total = sum(share for _, share in lanes)
    if total > 0.0:
        return [(lane, share / total) for lane, share in lanes]
    return [(lane, 1.0 / len(lanes)) for lane, _ in lanes]


class Market:
    """Serves every market demand line once a day and sets its price (see the module doc)."""

    __slots__ = ("ledger", "lines", "compute", "watch")

    def __init__(self, ledger: Ledger, lines: list[MarketLine], compute: list[ComputeMarketLine] | None = None):
        self.ledger = ledger
        self.lines = lines
        self.compute = compute or []
        # the lines with ``signal: orders``, each with its order window
        self.watch = [(line, line.orders) for line in lines if line.orders is not None]
        for line in lines:
            ledger.price[line.slot] = line.base
            ledger.multiplier[line.slot] = 1.0

    def serve(self, day: int) -> None:
        """Step 4 at market demand nodes: price of the day, then backlog and demand at that price."""
        led = self.ledger
        inv, locked, backlog = led.inv, led.locked, led.backlog
        for line in self.lines:
            s = line.slot
            want = line.draws[day]
            avail = inv[s] - locked[s]
            if avail < 0.0:
                avail = 0.0
            mult = line.multiplier()
            fee = line.fee() if line.lanes else 0.0
            # scarcity is measured against the demand the fee leaves, not the notional demand:
            # against the notional demand a fee-cut buyer with enough stock would read as short,
            # and under a binding supply the price would cycle instead of settling
            wanted = want * (1.0 + fee) ** line.elasticity if fee else want
            line.remember(day, 1.0 if wanted <= 0.0 or avail >= wanted else avail / wanted)
            factor = (mult * (1.0 + fee)) ** line.elasticity  # demand at price per unit of notional demand
            at_price = want * factor
            if line.thrift is not None:  # the lasting cut binds when it leaves less than the price
                keep = line.keep(mult)
                if keep < 1.0:
                    if want * keep < at_price:
                        at_price = want * keep
                    if line.use is not None and not line.at_price_cover:  # the buyer now orders for the use it kept
                        line.use[day] *= keep
                    if keep < factor:
                        factor = keep
            if line.at_price_cover and line.use is not None and factor < 1.0:
                line.use[day] *= factor  # it orders for what it buys at today's price (section 10)
            owed = backlog[s]
            old = owed if owed < avail else avail
            new = at_price if at_price < avail - old else avail - old
            if new < 0.0:
                new = 0.0
            inv[s] -= old + new
            if inv[s] < 0.0:
                inv[s] = 0.0
            price = line.base * mult
            for lane, _ in line.lanes:
                lane.price = price
            price *= 1.0 + fee
            short = at_price - new
            if short < EPS:
                short = 0.0
            led.delivered[s] += old + new
            led.demand[s] += want
            led.shortfall[s] += short
            led.destroyed[s] += want - at_price
            led.spend[s] += (old + new) * price
            led.price[s], led.multiplier[s] = price, mult
            backlog[s] = owed - old + short if line.carry else 0.0
        for compute in self.compute:
            serve_compute(led, compute, day)


    def attach_use(self, line_of_slot: dict) -> None:
        """Give each line with ``thrift`` or ``cover: at_price`` its buyer's daily-use path
        (units/day by day), the one its base-stock cover counts, so that the lasting cut (or
        the price) lowers what it orders."""
        for line in self.lines:
            order = line_of_slot.get(line.slot) if line.thrift is not None or line.at_price_cover else None
            if order is not None and order.path is not None:
                line.use = order.path

    def allocate_watching(self, allocation: Any, day: int) -> None:
        """Step 5c with ``signal: orders``: note the watched orders, allocate, then note what they obtained."""
        self.orders_placed()
        allocation.allocate(day)
        self.orders_settled(day)

    def orders_placed(self) -> None:
        """Step 5, after the orders and before allocation: each watched line's orders of the
        day on its inbound lanes (before trade gates, units) and its pipeline."""
        pipeline = self.ledger.pipeline
        for line, o in self.watch:
            o.today = sum(lane.req for lane, _ in line.lanes)
            o.before = pipeline[line.slot]

    def orders_settled(self, day: int) -> None:
        """Step 5, after allocation: what each watched line's orders obtained today (the
        departures on its inbound lanes) against its new asks (today's orders less the part
        that re-asks yesterday's unfilled orders), into its window."""
        led = self.ledger
        flow, pipeline = led.flow, led.pipeline
        for line, o in self.watch:
            asked = o.today
            unfilled = asked - (pipeline[line.slot] - o.before)  # the pipeline grew by what shipped or is under review
            repeat = o.unfilled if o.unfilled < asked else asked
            o.unfilled = unfilled if unfilled > EPS * (1.0 + asked) else 0.0
            got = 0.0
            for lane, _ in line.lanes:
                got += flow[lane.index]
            o.remember(day, asked - repeat, got)


class Option:
    """One substitute at a compute market node (docs/markets.md, section 6)."""

    __slots__ = ("slot", "value", "mwh", "domestic", "base", "lanes", "index")

    def __init__(self, slot: int, value: float, power_kw: float, domestic: bool, base: float | None,
                 lanes: list[tuple[Lane, float]], index: int):
        """``value``: measure units per unit of product; ``base``: base price (currency/unit),
        None for a substitute without a market; ``index``: its place in the listed order."""
        self.slot, self.value, self.mwh, self.domestic = slot, value, power_kw * 24.0 / 1000.0, domestic
        self.base, self.lanes, self.index = base, lanes, index


class ComputeMarketLine(Scarcity):
    """Compute demand (a measure over substitutes) of which some substitutes have a market:
    one multiplier for the node, a price per priced substitute (docs/markets.md, section 6)."""

    __slots__ = ("slot", "carry", "draws", "min_share", "options", "priced")

    def __init__(self, slot: int, carry: bool, draws: list[float], elasticity: float, max_multiplier: float,
                 window_days: int, min_share: float | None, options: list[Option]):
        """``slot``: the measure's slot; ``draws``: notional demand by day (measure units/day);
        ``min_share``: the mandate's domestic share (0-1) of what is delivered, or None."""
        super().__init__(elasticity, max_multiplier, window_days)
        self.slot, self.carry, self.draws = slot, carry, draws
        self.min_share = min_share if min_share else None  # a share of 0 constrains nothing
        self.options = options
        self.priced = [k for k, o in enumerate(options) if o.base is not None]  # their places in the list

    def order(self, fees: list[float]) -> list[Option]:
        """Today's buying order: the priced substitutes, cheapest per measure unit first
        (ties in listed order), fill the places priced substitutes hold in the list; the
        others keep their places. ``fees``: today's fee of each option."""
        ranked = sorted((self.options[k] for k in self.priced),
                        key=lambda o: (o.base * (1.0 + fees[o.index]) / o.value, o.index))  # type: ignore[operator]
        order = list(self.options)
        for k, o in zip(self.priced, ranked, strict=True):
            order[k] = o
        return order


class _Walk:
    """The state of one day's purchases at a compute market node, in the measure."""

    __slots__ = ("led", "m", "mult", "fees", "cut", "served", "domestic", "destroyed")

    def __init__(self, led: Ledger, m: int, mult: float, fees: list[float], cut: list[float]):
        self.led, self.m, self.mult, self.fees, self.cut = led, m, mult, fees, cut
        self.served = self.domestic = self.destroyed = 0.0

    def buy(self, want: float, order: list[Option], foreign: float) -> float:
        """Offer ``want`` (measure units of demand at the scarcity price) to the options in
        ``order``, foreign ones for at most ``foreign`` measure units; the demand left."""
        led = self.led
        inv, locked = led.inv, led.locked
        for o in order:
            if want <= EPS:
                break
            avail = inv[o.slot] - locked[o.slot]
            avail = avail * o.value if avail > 0.0 else 0.0
            if not o.domestic and avail > foreign:
                avail = foreign
            cut = self.cut[o.index]
            asked = want * cut  # the demand that remains at this option's price
            take = asked if asked <= avail else avail
            if take <= 0.0:
                continue
            units = take / o.value
            inv[o.slot] = max(0.0, inv[o.slot] - units)
            led.delivered[o.slot] += units
            led.energy[self.m] += units * o.mwh
            if o.base is not None:
                led.spend[o.slot] += units * o.base * self.mult * (1.0 + self.fees[o.index])
            used = want if take >= asked else take / cut
            self.destroyed += used - take
            self.served += take
            if o.domestic:
                self.domestic += take
            else:
                foreign -= take
            want -= used
        return want if want > 0.0 else 0.0


def serve_compute(led: Ledger, line: ComputeMarketLine, day: int) -> None:
    """Step 4 at one compute market node: the multiplier from the measure's supply ratio,
    then backlog and demand at price, bought cheapest first (docs/markets.md, section 6)."""
    m = line.slot
    want, owed = line.draws[day], led.backlog[m]
    fees = [lanes_fee(o.lanes) if o.base is not None and o.lanes else 0.0 for o in line.options]
    cut = [(1.0 + f) ** line.elasticity if f else 1.0 for f in fees]
    # each substitute's free stock counts as the notional demand it can serve at its fee
    # (stock / cut), so that a fee alone never reads as scarcity (as at plain lines)
    domestic, foreign = led.free_measure(line.options, cut if any(fees) else None)
    share = line.min_share
    avail = domestic + foreign if share is None else min(domestic + foreign, domestic / share)
    mult = line.multiplier()
    line.remember(day, 1.0 if want <= 0.0 or avail >= want else avail / want)
    order = line.order(fees) if line.priced else line.options
    at_price = want * mult ** line.elasticity
    walk = _Walk(led, m, mult, fees, cut)
    start = owed + at_price
    if share is None:
        left = walk.buy(start, order, float("inf"))
    else:  # the mandate: min_share of the demand is for domestic options only
        left = walk.buy(share * start, [o for o in order if o.domestic], 0.0)
        left += walk.buy((1.0 - share) * start, order, walk.domestic * (1.0 - share) / share)
    consumed = start - left
    old = owed if owed < consumed else consumed
    short = left - (owed - old)
    if short < EPS:
        short = 0.0
    for o in line.options:
        if o.base is not None:
            price = o.base * mult
            for lane, _ in o.lanes:
                lane.price = price
            led.price[o.slot], led.multiplier[o.slot] = price * (1.0 + fees[o.index]), mult
    led.demand[m] += want
    led.delivered[m] += walk.served
    led.shortfall[m] += short
    led.destroyed[m] += want - at_price + walk.destroyed
    led.multiplier[m] = mult
    led.backlog[m] = left if line.carry else 0.0
