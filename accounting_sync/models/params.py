"""The system parameters a sync reads, with their defaults: a bad value falls back to the
default (with a warning naming it) rather than failing every sync."""
import logging

from odoo.tools import config

from ..const import PARAM_RUN_BUDGET, PARAM_TIMEOUT

_logger = logging.getLogger(__name__)

# Odoo calls a cron job that reports remaining work up to 10 times in a row, all within one
# cron time limit: a run pauses after this share of it.
CRON_CALLS_PER_LIMIT = 12
# A throttled request is sent again within the run once the pacer / Retry-After allows (as
# long as that wait is short and the run has time); a failing one (5xx, timeout) this many
# times, ``accounting_sync.retry_backoff`` seconds apart, doubling; then the run ends and is
# rescheduled. Neither counts as an attempt of the records sent.
MAX_TRANSIENT_RETRIES = 4
# A record the provider refused is sent again by later runs up to this many times in all.
MAX_ATTEMPTS = 5


def positive_param(env, key, default):
    """A positive number from a system parameter; the default when it is unset, and (with a
    warning naming it) when it is not a positive number, rather than failing every sync."""
    value = env["ir.config_parameter"].sudo().get_param(key)
    if not value:
        return default
    try:
        number = float(value)
    except ValueError:
        number = 0
    if number > 0:
        return number
    _logger.warning("Accounting sync: system parameter %s=%r is not a positive number; "
                    "using %s", key, value, default)
    return default


def run_time_budget(env):
    """Seconds a committing (cron) run may work before it pauses and asks to be called
    again: ``accounting_sync.run_time_budget``, else a twelfth of the cron time limit."""
    configured = positive_param(env, PARAM_RUN_BUDGET, None)
    if configured:
        return max(configured, 1.0)
    limit = config.get("limit_time_real_cron") or 0
    if limit < 0:
        limit = config.get("limit_time_real") or 0
    return min(max(limit / CRON_CALLS_PER_LIMIT, 5.0), 60.0) if limit > 0 else 60.0


def run_lease_seconds(env):
    """How long a run is held by its worker without news (a committed batch): its time
    share, the longest a batch can take (a few requests and retries), and a margin. A run
    whose lease ran out belongs to a worker that died, and is taken over."""
    timeout = positive_param(env, PARAM_TIMEOUT, 30.0)
    return run_time_budget(env) + (MAX_TRANSIENT_RETRIES + 1) * timeout + 60
