"""Client-side pacing: within the providers' published limits, with no request refused, and
without long waits — on a simulated clock, then against the rate-limited sandbox."""
import time
import pytest

from accounting_sync.providers import RateLimitError, get_adapter
from accounting_sync.providers.documents import Product, Ref
from accounting_sync.providers.quickbooks_online import QuickBooksOnlineAdapter
from accounting_sync.providers.rate_limits import MARGIN, Pacer, forget_pacers
from accounting_sync.providers.xero import XeroAdapter
from conftest import REDIRECT_URI, authorize

REALM = "9341453050000001"
UK = "11111111-1111-4111-8111-111111111111"


class Clock:
    """A clock that sleeping moves on."""

    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now

    def sleep(self, seconds):
        self.now += seconds


def most_in_any_window(times, seconds):
    times = sorted(times)
    return max(sum(1 for t in times[i:] if t < start + seconds)
               for i, start in enumerate(times))


def test_qbo_batches_are_spaced_within_forty_a_minute():
    clock = Clock()
    pacer = Pacer(QuickBooksOnlineAdapter.RATE_LIMITS, clock=clock, sleep=clock.sleep)
    sent, waits = [], []
    for _n in range(200):
        waits.append(pacer.acquire("batch"))
        sent.append(clock.now)
        clock.now += 0.2  # the batch takes a moment
    assert most_in_any_window(sent, 60.0) <= 40
    assert sent[:4] == pytest.approx([1000.0, 1000.2, 1000.4, 1000.6]), "a small burst at once"
    assert max(waits) < 15, "never a long stand-still"
    # Over the long run it sends at the published rate, less the safety margin.
    rate = (len(sent) - 1) / (sent[-1] - sent[0]) * 60
    assert 38.5 <= rate <= 40


def test_queries_and_batches_share_the_per_minute_limits():
    clock = Clock()
    pacer = Pacer(QuickBooksOnlineAdapter.RATE_LIMITS, clock=clock, sleep=clock.sleep)
    sent = []
    for n in range(700):
        pacer.acquire("batch" if n % 20 == 0 else None)
        sent.append(clock.now)
    assert most_in_any_window(sent, 1.0) <= 10
    assert most_in_any_window(sent, 60.0) <= 500


def test_a_spent_daily_quota_ends_the_run_instead_of_sleeping():
    clock = Clock()
    pacer = Pacer(XeroAdapter.RATE_LIMITS, clock=clock, sleep=clock.sleep)
    for _n in range(5000):
        pacer.acquire()
        clock.now += 2  # slower than 60 a minute: only the day counts
    before = clock.now
    with pytest.raises(RateLimitError) as exhausted:
        pacer.acquire()
    assert clock.now == before, "it did not sleep"
    assert "day limit" in str(exhausted.value)
    # The first request leaves the day's window 10,000 s after it went (plus the margin).
    expected = 86400 * (1 + MARGIN) - 10000
    assert expected - 60 < exhausted.value.retry_after <= expected + 60


def test_a_429_closes_the_pacer_for_its_retry_after():
    clock = Clock()
    pacer = Pacer(XeroAdapter.RATE_LIMITS, clock=clock, sleep=clock.sleep)
    pacer.close_for(3)
    assert pacer.acquire() == pytest.approx(3)
    pacer.close_for(60)
    with pytest.raises(RateLimitError) as closed:
        pacer.acquire()
    assert closed.value.retry_after == 60


def test_time_scale_compresses_the_windows():
    clock = Clock()
    pacer = Pacer(XeroAdapter.RATE_LIMITS, time_scale=60, clock=clock, sleep=clock.sleep)
    sent = []
    for _n in range(300):
        pacer.acquire()
        sent.append(clock.now)
    assert most_in_any_window(sent, 1.0) <= 60  # a "minute" lasts one second


# -- against the sandbox, which refuses what exceeds the limits ----------------------------

SCALE = 30.0  # a "minute" lasts two seconds


def xero_adapter(sb, scale):
    return get_adapter("xero", client_id="xero-id", client_secret="xero-secret",
                       environment="local", base_url=sb.url, time_scale=scale)


@pytest.fixture
def limited(sb):
    forget_pacers()
    sb.configure(rate_limits=True, time_scale=SCALE)
    yield sb
    forget_pacers()


def test_xero_calls_paced_to_the_sandbox_are_never_refused(limited):
    adapter = xero_adapter(limited, SCALE)
    params, verifier = authorize(limited, adapter, companies=[UK])
    tokens = adapter.exchange_code(params["code"], REDIRECT_URI, code_verifier=verifier)
    started = time.monotonic()
    for _n in range(100):
        adapter.company_info(tokens, UK)
    elapsed = time.monotonic() - started
    calls = limited.calls(provider="xero", path_contains="/Organisation")
    assert len(calls) == 100
    assert [c["status"] for c in calls if c["status"] != 200] == []
    # 100 calls at 60 a (two-second) minute take at least the 40 beyond the first minute.
    assert elapsed >= 40 * 2.0 / 60

    # A client that paces to the wrong clock is refused: the sandbox does count.
    hasty = xero_adapter(limited, SCALE * 20)
    with pytest.raises(RateLimitError):
        for _n in range(200):
            hasty.company_info(tokens, UK)


def test_qbo_batches_paced_to_the_sandbox_are_never_refused(limited):
    adapter = get_adapter("quickbooks_online", client_id="qbo-id", client_secret="qbo-secret",
                          environment="local", base_url=limited.url, time_scale=SCALE)
    params, _verifier = authorize(limited, adapter, companies=[REALM])
    tokens = adapter.exchange_code(params["code"], REDIRECT_URI)
    income = next(a.id for a in adapter.fetch_chart(tokens, REALM).accounts
                  if a.name == "Services")
    for n in range(45):  # more batch requests than one minute allows
        results = adapter.push(tokens, REALM, [Product(
            key="p-%d-%d" % (n, i), name="Service %d-%d" % (n, i), code="S%d-%d" % (n, i),
            income_account=Ref(income)) for i in range(2)])
        assert all(r.ok for r in results), [str(r.error) for r in results]
    batches = limited.calls(provider="qbo", path_contains="/batch")
    assert len(batches) == 45
    assert all(c["status"] == 200 for c in limited.calls(provider="qbo", path_contains="/v3/"))
    assert most_in_any_window([c["time"] for c in batches], 60 / SCALE) <= 40
