"""The providers' published rate limits: sliding windows per company (QBO realm, Xero
tenant) and per app, in-flight (concurrent) request counts, and the time scale.

Requests are always counted (Xero's X-*Limit-Remaining headers report the counts); they are
refused only when the ``rate_limits`` setting is on. A window of ``seconds`` lasts
``seconds / time_scale`` real seconds. A refused request is not counted. The windows slide:
in no interval of a window's length are more than its count of requests let through.
"""
import math
from collections import Counter, deque
from dataclasses import dataclass

SECOND, MINUTE, DAY = 1.0, 60.0, 86400.0


@dataclass(frozen=True)
class Limit:
    problem: str   # the name a refusal gives (Xero's X-Rate-Limit-Problem)
    count: int     # at most this many requests...
    seconds: float  # ...in any window of this many (unscaled) seconds
    scope: str = "company"  # "company" or "app" (the OAuth client id)
    only: str = None  # "batch": counts only requests of that kind


# QBO, per realm: 10/s, 500/min, 40 batch calls/min, 10 concurrent (provider-facts 1.5)
QBO_LIMITS = (Limit("second", 10, SECOND), Limit("minute", 500, MINUTE),
              Limit("batch", 40, MINUTE, only="batch"))
QBO_CONCURRENT = 10
# Xero, per tenant: 60/min, 5,000/day, 5 concurrent; per app: 10,000/min (provider-facts 2.2)
XERO_LIMITS = (Limit("minute", 60, MINUTE), Limit("day", 5000, DAY),
               Limit("appminute", 10000, MINUTE, scope="app"))
XERO_CONCURRENT = 5


@dataclass
class Throttle:
    """A refusal: which limit, and how many real seconds until a request would pass."""
    problem: str
    wait: float
    limit: Limit = None

    @property
    def retry_after(self):
        return max(1, math.ceil(self.wait - 1e-9))

    def headers(self):
        return {"Retry-After": str(self.retry_after),
                "X-Retry-After-Ms": str(max(1, math.ceil(self.wait * 1000 - 1e-6)))}


class Limiter:
    def __init__(self, limits, concurrent):
        self.limits = limits
        self.concurrent = concurrent
        self.reset()

    def reset(self):
        self.windows = {}  # (problem, key) -> deque of request times (oldest first)
        self.inflight = Counter()  # company -> requests being handled

    def enter(self, company):
        self.inflight[company] += 1

    def leave(self, company):
        self.inflight[company] -= 1
        if self.inflight[company] <= 0:
            del self.inflight[company]

    def _window(self, limit, key, t, scale):
        window = self.windows.get((limit.problem, key))
        if window is None:
            # never longer than the limit: when limits are off, the oldest fall out
            window = self.windows[(limit.problem, key)] = deque(maxlen=limit.count)
        horizon = t - limit.seconds / scale
        while window and window[0] <= horizon:
            window.popleft()
        return window

    def admit(self, company, app, t, scale, enforce, kind=None):
        """Count one request at time ``t``; or, when ``enforce`` and a limit is reached,
        count nothing and return the Throttle with the longest wait."""
        keys = {"company": company, "app": app}
        windows = [(limit, self._window(limit, keys[limit.scope], t, scale))
                   for limit in self.limits if limit.only in (None, kind)]
        if enforce:
            worst = None
            if self.inflight[company] > self.concurrent:
                worst = Throttle("concurrent", SECOND / scale)
            for limit, window in windows:
                if len(window) >= limit.count:
                    wait = window[0] + limit.seconds / scale - t
                    if worst is None or wait > worst.wait:
                        worst = Throttle(limit.problem, wait, limit)
            if worst:
                return worst
        for _limit, window in windows:
            window.append(t)
        return None

    def remaining(self, problem, key, t, scale):
        limit = next(limit for limit in self.limits if limit.problem == problem)
        if (problem, key) not in self.windows:
            return limit.count
        return max(0, limit.count - len(self._window(limit, key, t, scale)))
