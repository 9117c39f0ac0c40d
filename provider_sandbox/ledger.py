"""Double-entry sums for the report endpoints (qbo_reports.py, xero_reports.py).

A transaction posts ``(account key, amount)`` pairs, debits positive and credits negative,
each in Decimal cents; every transaction's pairs add up to zero, so the accounts' nets do too
and a trial balance built from them balances by construction. The key is whatever names an
account in the provider's books (a QBO Account Id, a Xero AccountID), or a stand-in for an
account the report shows but the sandbox's chart does not hold.
"""
import re
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

CENT = Decimal("0.01")
ZERO = Decimal("0")


def money(value):
    """A stored amount (float, string or Decimal) as Decimal cents."""
    return Decimal(str(value or 0)).quantize(CENT, ROUND_HALF_UP)


def parse_date(value):
    """A report's YYYY-MM-DD parameter as a date, else None."""
    if not re.fullmatch(r"\d{4}-\d\d-\d\d", value):
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:  # 2026-02-30
        return None


def text(amount):
    """Decimal cents as the reports write money: "1234.50", "-20.00"."""
    return "%.2f" % amount


class Ledger:
    """Nets per account, in the order the accounts were first posted to."""

    def __init__(self):
        self.nets = {}

    def post(self, postings):
        """Add one transaction's postings; zero amounts are no activity."""
        for key, amount in postings:
            amount = money(amount)
            if amount:
                self.nets[key] = self.nets.get(key, ZERO) + amount

    @staticmethod
    def sides(net, debit_normal):
        """(debit, credit) cells of one net: the net on its side, the other empty; a zero
        net shows "0.00" on the account's normal side."""
        if net > 0 or (net == 0 and debit_normal):
            return text(net), ""
        return "", text(-net)

    def totals(self):
        """(total debits, total credits) of the nets: equal, as every transaction balances."""
        return (sum((net for net in self.nets.values() if net > 0), ZERO),
                sum((-net for net in self.nets.values() if net < 0), ZERO))
