"""Client-side pacing within the providers' published rate limits.

Each remote company (QBO realm, Xero tenant) gets one :class:`Pacer` per process, shared by
every call made to it. A pacer holds one bucket per published limit (QBO: 10 requests a
second, 500 a minute and 40 batch requests a minute; Xero: 60 a minute and 5,000 a day):

* a *sliding log* of the last ``count`` request times: never more than ``count`` requests in
  any window of ``seconds`` (what the providers count), with a small safety margin for clock
  and network jitter;
* *smoothing* (a GCRA at the limit's own rate): after a burst of a tenth of the limit,
  requests are spaced evenly, so that a long sync waits a moment before each request instead
  of sending a minute's worth at once and then standing still for most of a minute. A daily
  quota is a quota, not a pace: its burst is the whole quota.

``acquire`` answers how long the caller must wait before sending. A short wait (a pacing
gap, at most ``max_sleep`` seconds) is slept; a longer one (the daily limit, a 429 that asked
for a minute) raises :class:`RateLimitError` before anything is sent, so that the caller ends
its run and resumes later instead of holding a worker. A 429 from the provider closes the
pacer until its ``Retry-After`` has passed.

``time_scale`` compresses the windows for the local provider sandbox (its ``--time-scale``),
so that the client paces to the sandbox's compressed limits; it is 1 against Intuit and Xero.
"""
import threading
import time
from collections import deque
from dataclasses import dataclass

from .errors import RateLimitError

MAX_SLEEP = 15.0  # seconds a caller may sleep for pacing; beyond, it is told to come back
MARGIN = 0.02     # windows are taken this much longer than published...
MARGIN_MIN = 0.05  # ...and at least this many seconds longer


@dataclass(frozen=True)
class Rate:
    """At most ``count`` requests (of ``kind``, or of any kind) in any ``seconds``; the first
    ``burst`` may go at once (default: a tenth of ``count``), the others are spaced."""

    name: str
    count: int
    seconds: float
    kind: str = None
    burst: int = None

    def __post_init__(self):
        if self.burst is None:
            object.__setattr__(self, "burst", max(1, self.count // 10))


class _Bucket:
    def __init__(self, rate, scale):
        self.rate = rate
        self.window = rate.seconds / scale
        self.window += max(self.window * MARGIN, MARGIN_MIN / scale)
        self.interval = self.window / rate.count
        self.log = deque(maxlen=rate.count)
        self.tat = 0.0  # GCRA "theoretical arrival time" of the next request

    def earliest(self, now):
        """When a request may go: within the sliding window and the smoothing."""
        at = now
        if len(self.log) == self.rate.count:
            at = max(at, self.log[0] + self.window)
        return max(at, self.tat - (self.rate.burst - 1) * self.interval)

    def take(self, at):
        self.log.append(at)
        self.tat = max(self.tat, at) + self.interval


class Pacer:
    """The pacing of one remote company, for every thread of this process."""

    def __init__(self, rates, time_scale=1.0, max_sleep=MAX_SLEEP, clock=time.monotonic,
                 sleep=time.sleep, label="The provider"):
        self.rates = tuple(rates)
        self.scale = float(time_scale or 1.0)
        self.max_sleep = max_sleep
        self.clock = clock
        self.sleep = sleep
        self.label = label
        self.buckets = [_Bucket(rate, self.scale) for rate in self.rates]
        self.closed_until = 0.0
        self.lock = threading.Lock()
        self.waited = 0.0  # seconds slept so far, for the curious (benchmarks, logs)

    def acquire(self, kind=None):
        """Reserve the next slot for a request of ``kind``; sleep until it comes, or raise
        RateLimitError when it is further away than ``max_sleep``."""
        with self.lock:
            now = self.clock()
            buckets = [b for b in self.buckets if b.rate.kind in (None, kind)]
            at = max([now, self.closed_until] + [b.earliest(now) for b in buckets])
            wait = at - now
            if wait > self.max_sleep:
                limit = max(buckets, key=lambda b: b.earliest(now)) if buckets else None
                seconds = max(1, int(wait + 0.999))
                raise RateLimitError(retry_after=seconds, code="paced", params={
                    "provider": self.label, "seconds": seconds,
                    "limit": limit.rate.name if limit and at > self.closed_until else "rate"})
            for bucket in buckets:
                bucket.take(at)
        if wait > 0:
            self.waited += wait
            self.sleep(wait)
        return wait

    def close_for(self, seconds):
        """The provider answered 429: send nothing for ``seconds`` (real, unscaled: the
        provider already said how long)."""
        with self.lock:
            self.closed_until = max(self.closed_until, self.clock() + max(0.0, seconds))


_pacers = {}
_pacers_lock = threading.Lock()


def pacer_for(key, rates, time_scale=1.0, label="The provider"):
    """The process-wide pacer of ``key`` (provider, API base URL, company id, scale)."""
    with _pacers_lock:
        pacer = _pacers.get(key)
        if pacer is None:
            pacer = _pacers[key] = Pacer(rates, time_scale=time_scale, label=label)
        return pacer


def forget_pacers():
    """Drop every pacer (tests that reset the provider sandbox's counters)."""
    with _pacers_lock:
        _pacers.clear()
