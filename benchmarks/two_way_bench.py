"""Benchmark of two-way sync, for QuickBooks Online and Xero: how fast a real Odoo HTTP
server acknowledges webhook deliveries, and what applying payments made remotely costs by
one incremental pull, beside the naive way (one read per webhook event). Prints figures
(and writes benchmarks/last-two-way-results.md); it is not a test.

    ./scripts/benchmark two_way [--deliveries 10000] [--changes 50,200]
        [--providers quickbooks_online,xero] [--legacy-share 0.2] [--warmup 50]
        [--compare 2000] [--server-db-filter] [--db accounting_sync_bench_two_way]
        [--keep-db]

Database: ``--db`` is created for the run (accounting_sync installed, no demo data) and
dropped at the end (``--keep-db`` keeps it, and reuses it next time). The provider sandbox
runs as a process of its own on a free port, rate limits off; the measurements run in a
process of their own (``--phase``).

Applying remote changes, for each provider and each size n of ``--changes``: n invoices
(one line, one service, one sale tax; n/10 customers) are created and posted in Odoo and
pushed to a freshly reset sandbox company (``connection._sync``); a remote user pays each
of them in full in the provider's app (``/_sandbox/act``); then one pull
(``accounting.sync.puller._pull``) applies them, timed in this process (Odoo's own SQL
counter, its CPU time), with its API reads (the run's ``reads``, and the sandbox's count
of API calls received). A second pull must add nothing. The naive way reads, with the
connection's real tokens, each webhook event the provider made of those payments by its
id (QBO ``GET /v3/company/<realm>/<entity>/<id>``: the Payment created and the Invoice
whose Balance it moved; Xero, which sends no payment webhook, ``GET /Invoices/<id>`` of
the INVOICE UPDATE event, then ``GET /Payments/<id>`` of the payment it lists), counting
reads and their time; it applies nothing.

Webhook acknowledgement: a real Odoo server (``python3 -m odoo`` on the database, threaded,
``--max-cron-threads 0``: the pulls the deliveries trigger are recorded, not run, so the
figures are the endpoint's alone) on a free port; ``--deliveries`` deliveries to each of
``POST /accounting_sync/webhook/quickbooks_online`` and ``/xero`` over HTTP with one
``requests.Session``, one after another as the providers send them, each of 1–3 events
about the records synced by the last run above (QBO CloudEvents, ``--legacy-share`` of them
in the legacy eventNotifications format; Xero events), correctly signed, every event id
distinct. ``--warmup`` deliveries first are not counted. The acknowledgement time is the
client's, from sending the request to the end of the answer; SQL queries per delivery and
Odoo's own time come from the server's access log (Odoo's per-request query counter of the
thread that served it). Then the pull that follows such a stream: one ``_pull`` that
finds nothing new to read but marks every webhook row it was told about as read.
"""
import argparse
import gc
import json
import os
import platform
import random
import re
import signal
import statistics
import subprocess
import sys
import time
import uuid
from datetime import timedelta

import requests

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import sync_bench  # noqa: E402 - the database, connections and helpers are the push benchmark's
from queue_bench import start_sandbox, wait_for  # noqa: E402
from sync_bench import FIRST_DAY, REMOTE, ROOT  # noqa: E402

RESERVED_PORTS = {8069, 8072, 8169, 8179, 8189, 8199}  # Odoo's defaults and other work's
ACK_TARGET_MS = 100
COMPARE_BLOCK = 250  # deliveries per block of the trigger comparison
READS_TARGET = 0.05
# The providers' published limits, in API calls a minute per company.
CALLS_PER_MINUTE = {"quickbooks_online": 500, "xero": 60}
LABELS = {"quickbooks_online": "QuickBooks Online", "xero": "Xero"}
WEBHOOK_KEYS = {"quickbooks_online": ("webhook_verifier_token", "bench-qbo-verifier-token",
                                      "intuit-signature"),
                "xero": ("webhook_key", "bench-xero-webhook-key", "x-xero-signature")}
SERVER_LINE = re.compile(r'"POST /accounting_sync/webhook/(\w+) HTTP/[\d.]+" (\d+) - '
                         r'(\d+) ([\d.]+) ([\d.]+)')


# -- helpers -----------------------------------------------------------------------------

def free_port():
    while True:
        port = sync_bench.free_port()
        if port not in RESERVED_PORTS:
            return port


def percentile(values, p):
    """The p-th percentile (nearest rank) of ``values``."""
    ordered = sorted(values)
    if not ordered:
        return None
    rank = max(int(-(-p * len(ordered) // 100)), 1)  # ceil(p/100 × n)
    return ordered[min(rank, len(ordered)) - 1]


def sql_counter():
    import odoo.sql_db  # noqa: PLC0415 - once Odoo is set up
    return odoo.sql_db.sql_counter


def child_env():
    return dict(os.environ, PYTHONPATH=ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""))


class SandboxClient:
    """The sandbox's /_sandbox controls over HTTP (it runs in a process of its own)."""

    def __init__(self, url):
        self.url = url
        self.session = requests.Session()

    def post(self, path, data=None):
        answer = self.session.post(self.url + path, json=data or {}, timeout=60)
        if answer.status_code != 200:
            raise SystemExit("sandbox %s: %s %s" % (path, answer.status_code, answer.text[:500]))
        return answer.json()

    def get(self, path, **params):
        answer = self.session.get(self.url + path, params=params, timeout=60)
        answer.raise_for_status()
        return answer.json()

    def act(self, provider, action, resource, company, **kwargs):
        return self.post("/_sandbox/act", dict(provider=provider, action=action,
                                               resource=resource, company=company, **kwargs))

    def records(self, provider, resource, company):
        return self.get("/_sandbox/records", provider=provider, resource=resource,
                        company=company)

    def api_calls(self, provider, company=None):
        params = {"provider": provider}
        if company:
            params["company"] = company
        return self.get("/_sandbox/api_calls", **params)["count"]

    def pending_events(self, provider):
        return self.get("/_sandbox/webhooks", provider=provider)["pending"]


# -- data --------------------------------------------------------------------------------

def master_data(env):
    """The service every invoice sells and a pool of customers (made once)."""
    product = env["product.product"].search([("default_code", "=", "BENCH")], limit=1) or \
        env["product.product"].create({"name": "Bench service", "type": "service",
                                       "default_code": "BENCH", "list_price": 50.0})
    partners = env["res.partner"].search([("name", "=like", "Bench customer %")],
                                         order="name")
    if len(partners) < 100:
        partners |= env["res.partner"].create([{
            "name": "Bench customer %05d" % i, "email": "bench%05d@example.com" % i,
            "is_company": True} for i in range(len(partners), 100)])
    return product, partners


def invoices(env, product, partners, size, first, commit=False):
    """``size`` posted invoices dated ``first``, ``first`` + 1 day...; size/10 customers.
    ``commit``: each 50 committed as they are posted (qbd_bench: thousands of invoices)."""
    customers = partners[:max(size // 10, 1)]
    moves = env["account.move"]
    for start in range(0, size, 50):
        batch = env["account.move"].create([{
            "move_type": "out_invoice", "partner_id": customers[i % len(customers)].id,
            "invoice_date": first + timedelta(days=i), "date": first + timedelta(days=i),
            "ref": "bench two-way",
            "invoice_line_ids": [(0, 0, {"product_id": product.id, "quantity": 1 + i % 5,
                                         "price_unit": 10.0 + (i % 97) * 1.37})],
        } for i in range(start, min(start + 50, size))])
        batch.action_post()
        moves |= batch
        if commit:
            env.cr.commit()
            env.invalidate_all()
    return moves


def push(connection):
    """What the connection's job does until nothing is due (rate limits are off)."""
    for _round in range(1000):
        run = connection._sync(trigger="button", commit=True)
        if run.state not in ("paused", "interrupted"):
            return run
        if run.state == "interrupted":
            time.sleep(0.5)
    raise SystemExit("the push did not end")


def bank_code(connection, provider):
    return connection.remote_record_ids.filtered(
        lambda r: r.kind == "account" and r.name == REMOTE[provider]["bank"]).remote_id


def timed_changes(env):
    """Time (CPU) each change the applier applies, in this process: ([(pull type, ms,
    live Odoo environments of the transaction before it)], the function that puts the
    applier back as it was)."""
    Applier = type(env["accounting.sync.applier"])
    original = Applier._apply_one
    applied = []

    def _apply_one(self, connection, change):
        live, started = len(self.env.transaction.envs), time.process_time()
        try:
            return original(self, connection, change)
        finally:
            applied.append((change.pull_type, (time.process_time() - started) * 1000, live))

    Applier._apply_one = _apply_one

    def restore():
        if "_apply_one" in vars(Applier) and vars(Applier)["_apply_one"] is _apply_one:
            delattr(Applier, "_apply_one")
        if Applier._apply_one is not original:
            Applier._apply_one = original
    return applied, restore


def pay_remotely(sandbox, provider, connection, bindings):
    """A remote user pays each bound invoice in full in the provider's app: the remote
    payment ids."""
    code, company = REMOTE[provider]["code"], connection.remote_company_id
    bank = bank_code(connection, provider)
    paid = []
    if provider == "quickbooks_online":
        remote = {r["Id"]: r for r in sandbox.records(code, "Invoice", company)}
        for binding in bindings:
            invoice = remote[binding.remote_id]
            amount = invoice["Balance"]
            paid.append(sandbox.act(code, "create", "Payment", company, record={
                "CustomerRef": invoice["CustomerRef"], "TxnDate": invoice["TxnDate"],
                "TotalAmt": amount, "DepositToAccountRef": {"value": bank},
                "Line": [{"Amount": amount, "LinkedTxn": [{"TxnId": binding.remote_id,
                                                           "TxnType": "Invoice"}]}]})["Id"])
    else:
        remote = {r["InvoiceID"]: r for r in sandbox.records(code, "Invoices", company)}
        for binding in bindings:
            invoice = remote[binding.remote_id]
            paid.append(sandbox.act(code, "create", "Payments", company, record={
                "Invoice": {"InvoiceID": binding.remote_id}, "Account": {"Code": bank},
                "Date": (invoice.get("DateString") or "")[:10],
                "Amount": invoice["AmountDue"]})["PaymentID"])
    return paid


def naive_reads(sandbox, provider, connection, payments):
    """One GET per webhook event the provider made of the remote payments, by id, with
    the connection's real tokens (and for Xero the payment the invoice lists): (reads,
    seconds, records read, failures)."""
    code, company = REMOTE[provider]["code"], connection.remote_company_id
    events = [e for e in sandbox.pending_events(code)
              if e.get("source") == "remote" and e.get("company") == company]
    token = connection.sudo().access_token
    session = requests.Session()
    reads, failures, found = 0, 0, set()
    started = time.perf_counter()
    for event in events:
        if provider == "quickbooks_online":
            answer = session.get("%s/qbo/v3/company/%s/%s/%s" % (
                sandbox.url, company, event["entity"].lower(), event["id"]),
                params={"minorversion": 75}, timeout=30, headers={
                    "Authorization": "Bearer " + token, "Accept": "application/json"})
            reads += 1
            if answer.status_code != 200:
                failures += 1
            elif event["entity"] == "Payment":
                found.add(answer.json()["Payment"]["Id"])
            continue
        headers = {"Authorization": "Bearer " + token, "xero-tenant-id": company,
                   "Accept": "application/json"}
        api = "%s/xero/api.xro/2.0" % sandbox.url
        answer = session.get("%s/%s/%s" % (api, event["entity"], event["id"]),
                             headers=headers, timeout=30)
        reads += 1
        if answer.status_code != 200:
            failures += 1
            continue
        for document in answer.json().get(event["entity"], []):
            for payment in document.get("Payments") or ():
                answer = session.get("%s/Payments/%s" % (api, payment["PaymentID"]),
                                     headers=headers, timeout=30)
                reads += 1
                if answer.status_code != 200:
                    failures += 1
                else:
                    found.add(payment["PaymentID"])
    seconds = time.perf_counter() - started
    return {"events": len(events), "reads": reads, "seconds": round(seconds, 3),
            "payments_read": len(found & set(payments)), "failures": failures}


# -- applying remote changes ----------------------------------------------------------------

def apply_run(args, env, sandbox, provider, size, first, product, partners):
    """n invoices pushed, paid remotely, then one pull; the figures and the connection."""
    from odoo.tools import float_is_zero  # noqa: PLC0415
    Puller = env["accounting.sync.puller"]
    Binding = env["accounting.sync.binding"]
    sandbox.post("/_sandbox/reset")
    moves = invoices(env, product, partners, size, first)
    env.cr.commit()
    connection = sync_bench.connect(env, provider, sandbox.url, first)
    env.cr.commit()
    pushed = push(connection)
    bindings = Binding.search([("connection_id", "=", connection.id),
                               ("res_model", "=", "account.move"),
                               ("res_id", "in", moves.ids), ("state", "=", "synced")])
    if len(bindings) != size:
        raise SystemExit("%s: %s of %s invoices pushed (%s)" % (
            provider, len(bindings), size, pushed.outcome))
    time.sleep(1.1)  # a remote change later than our writes by more than their rounding
    code = REMOTE[provider]["code"]
    company = connection.remote_company_id
    paid = pay_remotely(sandbox, provider, connection, bindings)
    env.cr.commit()
    env.invalidate_all()

    calls = sandbox.api_calls(code, company)
    applied, restore = timed_changes(env)
    gc.collect()  # the environments earlier work left for the cyclic collector
    try:
        queries, wall, cpu = sql_counter(), time.perf_counter(), time.process_time()
        # As the scheduled job pulls: its changes applied 25 per transaction.
        run = Puller._pull(connection, trigger="webhook", commit=True)
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        queries = sql_counter() - queries
    finally:
        restore()
    calls = sandbox.api_calls(code, company) - calls
    paying = [(ms, live) for kind, ms, live in applied if kind in ("Payment", "Payments")]
    payments_ms = [ms for ms, _live in paying]
    quarter = max(len(payments_ms) // 4, 1)
    if not run or run.state == "failed":
        raise SystemExit("%s: the pull failed: %s" % (provider, run and run.outcome))
    first_pull = {"state": run.state, "received": run.changes_received,
                  "applied": run.changes_applied, "ignored": run.changes_ignored,
                  "conflicts": run.changes_conflict, "failed": run.changes_failed,
                  "reads": run.reads, "api_calls": calls, "queries": queries,
                  "seconds": round(wall, 3), "cpu_s": round(cpu, 3),
                  "environments_first": paying[0][1], "environments_last": paying[-1][1],
                  "payment_ms_first_quarter": round(statistics.fmean(payments_ms[:quarter]), 1),
                  "payment_ms_last_quarter": round(statistics.fmean(payments_ms[-quarter:]), 1)}

    env.invalidate_all()
    once = sum(1 for move in moves if len(move._get_reconciled_payments()) == 1
               and float_is_zero(move.amount_residual,
                                 precision_rounding=move.currency_id.rounding))
    payments = len(moves._get_reconciled_payments())
    calls = sandbox.api_calls(code, company)
    queries = sql_counter()
    second = Puller._pull(connection, trigger="pull", commit=True)
    env.invalidate_all()
    second_pull = {"received": second.changes_received, "applied": second.changes_applied,
                   "reads": second.reads, "api_calls": sandbox.api_calls(code, company) - calls,
                   "queries": sql_counter() - queries,
                   "payments_added": len(moves._get_reconciled_payments()) - payments}
    naive = naive_reads(sandbox, provider, connection, paid)
    result = {
        "provider": provider, "n": size, "first": first_pull, "second": second_pull,
        "naive": naive, "paid_once": once, "odoo_payments": payments,
        "payments_per_minute": round(size / wall * 60, 1),
        "reads_per_change": round(run.reads / size, 4),
        "api_calls_per_change": round(first_pull["api_calls"] / size, 4),
        "sql_per_change": round(first_pull["queries"] / size, 2),
        "cpu_ms_per_change": round(cpu * 1000 / size, 2),
        "naive_reads_per_change": round(naive["reads"] / size, 2),
    }
    print("  %s n=%s: %s" % (provider, size, json.dumps(result)), flush=True)
    return result, connection, paid


# -- webhook acknowledgement ----------------------------------------------------------------

class Deliveries:
    """Realistic, correctly signed deliveries of 1–3 events each, every event id
    distinct, about the records the last run synced."""

    def __init__(self, provider, connection, payments, key, sandbox_url, legacy_share, seed):
        from provider_sandbox.webhooks import Webhooks  # noqa: PLC0415
        self.webhooks = Webhooks
        self.provider, self.key, self.base = provider, key, sandbox_url
        self.company = connection.remote_company_id
        self.legacy_share = legacy_share
        self.random = random.Random(seed)
        self.clock = time.time()  # event times: from now, one millisecond apart
        self.sequence = 0
        bindings = connection.env["accounting.sync.binding"].search([
            ("connection_id", "=", connection.id), ("origin", "=", "odoo"),
            ("state", "=", "synced"), ("remote_id", "!=", False)])
        documents = bindings.filtered(lambda b: b.res_model == "account.move")
        contacts = bindings.filtered(lambda b: b.res_model == "res.partner")
        if provider == "quickbooks_online":
            self.pool = ([("Payment", rid, "create") for rid in payments] * 4
                         + [("Invoice", b.remote_id, "update") for b in documents] * 4
                         + [("Customer", b.remote_id, "update") for b in contacts]
                         * max(len(documents) // len(contacts), 1))
        else:
            self.pool = ([("Invoices", b.remote_id, "update") for b in documents] * 6
                         + [("Contacts", b.remote_id, "update") for b in contacts]
                         * max(len(documents) // len(contacts), 1))

    def event(self):
        entity, remote_id, operation = self.random.choice(self.pool)
        self.sequence += 1
        return {"event_id": str(uuid.uuid4()), "event_seq": self.sequence, "entity": entity,
                "id": remote_id, "operation": operation, "company": self.company,
                "time": self.clock + self.sequence / 1000.0, "data": {}}

    def next(self):
        """(body, headers, events, format) of the next delivery."""
        events = [self.event() for _i in range(self.random.randint(1, 3))]
        if self.provider == "xero":
            body = json.dumps({
                "events": [self.webhooks.xero_event(e, self.base) for e in events],
                "firstEventSequence": events[0]["event_seq"],
                "lastEventSequence": events[-1]["event_seq"],
                "entropy": uuid.uuid4().hex[:20].upper()}).encode()
            kind, content_type = "xero", "application/json; charset=utf-8"
        elif self.random.random() < self.legacy_share:
            body = json.dumps({"eventNotifications": [{
                "realmId": self.company, "dataChangeEvent": {
                    "entities": [self.webhooks.qbo_entity(e) for e in events]}}]}).encode()
            kind, content_type = "legacy", "application/json"
        else:
            body = json.dumps([self.webhooks.cloud_event(e) for e in events]).encode()
            kind, content_type = "cloudevents", "application/cloudevents+json"
        signature = _sign(self.key, body)
        headers = {"Content-Type": content_type, WEBHOOK_KEYS[self.provider][2]: signature,
                   "User-Agent": "ProviderSandbox-Webhooks/1.0"}
        return body, headers, len(events), kind


def _sign(key, body):
    from provider_sandbox.webhooks import sign  # noqa: PLC0415
    return sign(key, body)


def start_server(args, port=None, log_name="two-way-bench-server.log"):
    """A real Odoo server on the database (threaded, no cron thread) on ``port`` (default:
    a free one), its log (werkzeug's access lines at INFO) in .run/``log_name``. Also used
    by qbd_bench."""
    port = port or free_port()
    log_path = os.path.join(ROOT, ".run", log_name)
    log = open(log_path, "w")
    # One database named by -d and no --db-filter: Odoo serves it without listing the
    # databases (with a filter it lists them, on a new connection to the postgres database,
    # for every request that has no session — every webhook delivery): --server-db-filter.
    db_filter = ["--db-filter", "^%s$" % args.db] if getattr(args, "server_db_filter",
                                                              False) else []
    process = subprocess.Popen(
        [sys.executable, "-m", "odoo", "-d", args.db, *db_filter,
         "--addons-path", sync_bench.addons_path(), "--http-interface", "127.0.0.1",
         "--http-port", str(port), "--max-cron-threads", "0", "--workers", "0",
         "--log-level", "warn", "--log-handler", "werkzeug:INFO"],
        stdout=log, stderr=subprocess.STDOUT, cwd=ROOT, env=child_env())
    url = "http://127.0.0.1:%s" % port
    try:
        wait_for(lambda: requests.get(url + "/web/login", timeout=5).ok, 180)
    except BaseException:
        process.kill()
        process.wait(10)
        log.close()
        raise
    return {"process": process, "url": url, "log": log, "log_path": log_path}


def stop_server(server):
    server["process"].send_signal(signal.SIGINT)
    try:
        server["process"].wait(30)
    except subprocess.TimeoutExpired:
        server["process"].kill()
    server["log"].close()


def send(session, endpoint, deliveries, count):
    """``count`` deliveries one after another: [(ms, status, events, format, HTTP
    version)], the acknowledgement time being the client's (request sent, answer read)."""
    rows = []
    for _number in range(count):
        body, headers, events, kind = deliveries.next()
        started = time.perf_counter()
        answer = session.post(endpoint, data=body, headers=headers, timeout=30)
        rows.append(((time.perf_counter() - started) * 1000, answer.status_code, events,
                     kind, answer.raw.version))
    return rows


def summary(rows):
    times = [row[0] for row in rows]
    statuses, kinds = {}, {}
    for _ms, status, _events, kind, _version in rows:
        statuses[status] = statuses.get(status, 0) + 1
        kinds[kind] = kinds.get(kind, 0) + 1
    return {"deliveries": len(rows), "events": sum(row[2] for row in rows),
            "formats": kinds, "statuses": statuses,
            "http": sorted({"HTTP/1.1" if row[4] == 11 else "HTTP/1.0" for row in rows}),
            "p50_ms": round(percentile(times, 50), 2), "p95_ms": round(percentile(times, 95), 2),
            "p99_ms": round(percentile(times, 99), 2), "max_ms": round(max(times), 2),
            "mean_ms": round(statistics.fmean(times), 2)}


def server_rows(log_path, provider):
    """Odoo's own figures of each delivery to ``provider``'s endpoint, in order, from its
    access log: (queries — its per-request counter of the thread that served it —, SQL
    ms, total ms in Odoo)."""
    rows = []
    with open(log_path, errors="replace") as log:
        for line in log:
            match = SERVER_LINE.search(line)
            if match and match.group(1) == provider:
                rows.append((int(match.group(3)), float(match.group(4)) * 1000,
                             (float(match.group(4)) + float(match.group(5))) * 1000))
    return rows


def server_summary(rows):
    if not rows:
        return {}
    queries = [r[0] for r in rows]
    return {"logged": len(rows), "sql_median": statistics.median(queries),
            "sql_mean": round(statistics.fmean(queries), 2), "sql_max": max(queries),
            "sql_min": min(queries),
            "sql_ms_p50": round(percentile([r[1] for r in rows], 50), 2),
            "odoo_ms_p50": round(percentile([r[2] for r in rows], 50), 2),
            "odoo_ms_p99": round(percentile([r[2] for r in rows], 99), 2)}


def sync_crons(env):
    """The active scheduled jobs of accounting_sync (its pull job, the connections' jobs):
    what a webhook delivery triggers."""
    return env["ir.cron"].sudo().search([("model_id.model", "=like", "accounting.sync.%")])


def webhook_phase(args, env, sandbox, server, provider, connection, payments):
    """Warm-up, ``args.deliveries`` deliveries to ``provider``'s endpoint about
    ``connection``'s records, then the comparison with the jobs they trigger inactive:
    the client's figures, what was recorded (Odoo's own figures are read from the log at
    the end)."""
    setting, key, _header = WEBHOOK_KEYS[provider]
    env["accounting.sync.app.setting"]._set(provider, **{setting: key})
    env.cr.commit()
    deliveries = Deliveries(provider, connection, payments, key, sandbox.url,
                            args.legacy_share, seed=provider)
    session = requests.Session()
    endpoint = "%s/accounting_sync/webhook/%s" % (server["url"], provider)
    Change = env["accounting.sync.change"]
    send(session, endpoint, deliveries, args.warmup)
    env.cr.commit()
    before = Change.search_count([("connection_id", "=", connection.id),
                                  ("source", "=", "webhook")])
    sent_before, triggers = deliveries.sequence, cron_triggers(env)
    rows = send(session, endpoint, deliveries, args.deliveries)
    env.cr.commit()  # a new snapshot: what the server recorded
    result = dict(summary(rows), provider=provider)
    result["recorded"] = Change.search_count([("connection_id", "=", connection.id),
                                              ("source", "=", "webhook")]) - before
    result["sent_events"] = deliveries.sequence - sent_before
    result["cron_triggers"] = cron_triggers(env) - triggers
    # The same deliveries in blocks, the jobs alternately active and inactive (an inactive
    # job is not triggered: no ir_cron_trigger row, no NOTIFY).
    blocks = {"active": [], "inactive": []}
    order = []
    crons = sync_crons(env)
    try:
        for block in range(2 * (args.compare // (2 * COMPARE_BLOCK))):
            state = "active" if block % 2 == 0 else "inactive"
            crons.write({"active": state == "active"})
            env.cr.commit()
            blocks[state] += send(session, endpoint, deliveries, COMPARE_BLOCK)
            order.append(state)
    finally:
        crons.write({"active": True})
        env.cr.commit()
    result["compare"] = {state: summary(rows) for state, rows in blocks.items() if rows}
    result["compare_order"] = order
    print("  webhooks %s: %s" % (provider, json.dumps(result)), flush=True)
    return result


def cron_triggers(env):
    env.cr.execute("SELECT count(*) FROM ir_cron_trigger")
    return env.cr.fetchone()[0]


def attach_server_figures(result, log_path, args):
    """Odoo's own figures of the measured deliveries and of each comparison block."""
    rows = server_rows(log_path, result["provider"])[args.warmup:]
    result["server"] = server_summary(rows[:result["deliveries"]])
    rows = rows[result["deliveries"]:]
    by_state = {"active": [], "inactive": []}
    for index, state in enumerate(result.get("compare_order", ())):
        by_state[state] += rows[index * COMPARE_BLOCK:(index + 1) * COMPARE_BLOCK]
    for state, summary_ in result.get("compare", {}).items():
        summary_["server"] = server_summary(by_state[state])


def pull_after(env, sandbox, provider, connection):
    """The pull that follows the deliveries: nothing new to read, every webhook row it was
    told about marked as read."""
    Change = env["accounting.sync.change"]
    waiting = Change.search_count([("connection_id", "=", connection.id),
                                   ("source", "=", "webhook"), ("state", "=", "new")])
    code = REMOTE[provider]["code"]
    calls = sandbox.api_calls(code, connection.remote_company_id)
    queries, wall = sql_counter(), time.perf_counter()
    run = env["accounting.sync.puller"]._pull(connection, trigger="webhook", commit=True)
    wall = time.perf_counter() - wall
    queries = sql_counter() - queries
    left = Change.search_count([("connection_id", "=", connection.id),
                                ("source", "=", "webhook"), ("state", "=", "new")])
    return {"provider": provider, "webhook_rows": waiting, "marked": waiting - left,
            "seconds": round(wall, 3), "queries": queries, "reads": run.reads,
            "api_calls": sandbox.api_calls(code, connection.remote_company_id) - calls,
            "received": run.changes_received, "state": run.state}


# -- the phase --------------------------------------------------------------------------------

def wizard_baseline(env, product, partners, size, first, commit_each=False):
    """Odoo's own cost of what applying a remote payment does at its core: one payment per
    invoice registered with ``account.payment.register`` as the applier calls it, on
    invoices no connection sends (dated before every connection's start)."""
    moves = invoices(env, product, partners, size, first)
    bank = env["account.journal"].search([("type", "=", "bank"),
                                          ("company_id", "=", env.company.id)], limit=1)
    env.cr.commit()
    env.invalidate_all()
    gc.collect()
    queries, wall, cpu = sql_counter(), time.perf_counter(), time.process_time()
    times, live = [], []
    for move in moves:
        started = time.process_time()
        live.append(len(env.transaction.envs))
        env["account.payment.register"].with_context(
            active_model="account.move", active_ids=move.ids).create({
                "payment_date": move.invoice_date, "journal_id": bank.id,
                "amount": move.amount_residual, "currency_id": move.currency_id.id,
                "payment_difference_handling": "open",
                "communication": "Bench payment %s" % move.id})._create_payments()
        if commit_each:
            env.cr.commit()
        times.append((time.process_time() - started) * 1000)
    env.flush_all()
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    queries = sql_counter() - queries
    env.cr.commit()
    quarter = max(size // 4, 1)
    return {"n": size, "commit_each": commit_each, "sql_per_payment": round(queries / size, 2),
            "cpu_ms_per_payment": round(cpu * 1000 / size, 2),
            "payments_per_minute": round(size / wall * 60, 1),
            "environments_first": live[0], "environments_last": live[-1],
            "payment_ms_first_quarter": round(statistics.fmean(times[:quarter]), 1),
            "payment_ms_last_quarter": round(statistics.fmean(times[-quarter:]), 1)}


def unlink_connections(env):
    env["accounting.sync.connection"].sudo().with_context(active_test=False).search(
        []).unlink()
    env.cr.commit()


def measure(args):
    env, cr = sync_bench.odoo_env(args.db)
    sandbox = SandboxClient(args.sandbox)
    # The client's pacing on a fast clock: rate limits are off in the sandbox.
    env["ir.config_parameter"].set_param("accounting_sync.local_time_scale", "1000")
    product, partners = master_data(env)
    cr.commit()
    cr.execute("SELECT current_setting('server_version')")
    results = {"postgres": cr.fetchone()[0], "apply": [], "webhooks": [], "after": [],
               "baseline": []}
    unlink_connections(env)
    # Odoo's payment wizard alone, on invoices dated before every connection's start.
    day = FIRST_DAY - timedelta(days=sum(args.changes) * 2 + 1)
    for size in args.changes:
        results["baseline"].append(wizard_baseline(env, product, partners, size, day))
        print("  Odoo's payment wizard alone: %s" % json.dumps(results["baseline"][-1]),
              flush=True)
        day += timedelta(days=size)
    # The same for the largest size, committed after each payment.
    results["baseline_commit"] = wizard_baseline(env, product, partners, max(args.changes),
                                                 day, commit_each=True)
    print("  Odoo's payment wizard alone, a commit after each: %s" % json.dumps(
        results["baseline_commit"]), flush=True)
    day += timedelta(days=max(args.changes))
    # Each run's invoices are dated after every earlier run's, and its connection (whose
    # sync starts at its first invoice) is the only one: it sends only its own invoices,
    # and the payments it brings in are queued to no other connection.
    env.cr.execute("SELECT max(invoice_date) FROM account_move WHERE ref = 'bench two-way'")
    last = env.cr.fetchone()[0]
    first = max(last + timedelta(days=1), FIRST_DAY) if last else FIRST_DAY
    server = None
    try:
        for provider in args.providers:
            unlink_connections(env)
            for size in args.changes:
                result, connection, paid = apply_run(args, env, sandbox, provider, size,
                                                     first, product, partners)
                results["apply"].append(result)
                first += timedelta(days=size)
            if not args.deliveries:
                continue
            if server is None:
                server = start_server(args)
            results["webhooks"].append(webhook_phase(args, env, sandbox, server, provider,
                                                     connection, paid))
            after = pull_after(env, sandbox, provider, connection)
            results["after"].append(after)
            print("  pull after the deliveries %s: %s" % (provider, json.dumps(after)),
                  flush=True)
    finally:
        if server is not None:
            stop_server(server)
    for result in results["webhooks"]:
        attach_server_figures(result, server["log_path"], args)
    cr.commit()
    cr.close()
    print("RESULT " + json.dumps(results), flush=True)


# -- the report -------------------------------------------------------------------------------

def wizard(figures):
    return "{:,} / {} / {} ({} → {}) / {:,} → {:,}".format(
        figures["payments_per_minute"], figures["sql_per_payment"],
        figures["cpu_ms_per_payment"], figures["payment_ms_first_quarter"],
        figures["payment_ms_last_quarter"], figures["environments_first"],
        figures["environments_last"])


def mark(ok, target):
    return "%s %s" % ("✔" if ok else "✘", target)


def command_line(args):
    parts = ["./scripts/benchmark two_way", "--deliveries %s" % args.deliveries,
             "--changes %s" % ",".join(map(str, args.changes))]
    if args.providers != ["quickbooks_online", "xero"]:
        parts.append("--providers %s" % ",".join(args.providers))
    if args.legacy_share != 0.2:
        parts.append("--legacy-share %s" % args.legacy_share)
    if args.warmup != 50:
        parts.append("--warmup %s" % args.warmup)
    if args.compare != 2000:
        parts.append("--compare %s" % args.compare)
    if args.server_db_filter:
        parts.append("--server-db-filter")
    return " ".join(parts)


def machine(results, args):
    revision = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT,
                              capture_output=True, text=True).stdout.strip()
    dirty = subprocess.run(["git", "status", "--porcelain", "--", "accounting_sync"],
                           cwd=ROOT, capture_output=True, text=True).stdout.strip()
    return ("%s cores (`nproc`), Python %s, PostgreSQL %s, %s; load average %.2f at the "
            "start, %.2f at the end (other processes share the machine). Code: %s%s." % (
                os.cpu_count(), platform.python_version(), results["postgres"],
                platform.platform(terse=True), args.load, os.getloadavg()[0], revision,
                " with uncommitted changes to accounting_sync" if dirty else ""))


def report(results, args):
    providers = args.providers
    lines = ["# accounting_sync two-way benchmark", "", "`%s`" % command_line(args), "",
             machine(results, args), ""]
    hooks = {r["provider"]: r for r in results["webhooks"]}
    after = {r["provider"]: r for r in results["after"]}
    if hooks:
        lines += [
            "## Webhook acknowledgement", "",
            "A real Odoo server (threaded, `--max-cron-threads 0`, %s) on its own database; "
            "deliveries one after another over HTTP with one `requests.Session`, each of "
            "1–3 correctly signed events about synced records, every event id distinct "
            "(%s warm-up deliveries first, not counted). Acknowledgement time: the client's, "
            "request sent to answer read. SQL queries and Odoo's time: Odoo's per-request "
            "counters in its access log. Then the comparison: further deliveries in blocks "
            "of %s, the jobs a delivery triggers (accounting_sync's scheduled jobs) "
            "alternately active and inactive — an inactive job is not triggered: no "
            "`ir_cron_trigger` row, no NOTIFY." % (
                "`--db-filter`" if args.server_db_filter else "one database, no `--db-filter`",
                args.warmup, COMPARE_BLOCK), "",
            "| metric | %s | target |" % " | ".join(LABELS[p] for p in providers),
            "|---|%s---|" % ("---|" * len(providers))]

        def row(label, values, target=""):
            lines.append("| %s | %s | %s |" % (label, " | ".join(map(str, values)), target))

        row("deliveries (events)", ["{:,} ({:,})".format(hooks[p]["deliveries"],
                                                         hooks[p]["events"])
                                    for p in providers])
        row("formats", [", ".join("%s %s" % (k, v) for k, v in sorted(
            hooks[p]["formats"].items())) for p in providers])
        for name in ("p50", "p95", "p99", "max"):
            values = [hooks[p]["%s_ms" % name] for p in providers]
            target = mark(all(v <= ACK_TARGET_MS for v in values),
                          "≤ %s ms" % ACK_TARGET_MS) if name == "p99" else ""
            row("acknowledgement %s, ms" % name, values, target)
        row("Odoo's own time p50 / p99, ms (of which SQL p50)", [
            "%s / %s (%s)" % (hooks[p]["server"].get("odoo_ms_p50"),
                              hooks[p]["server"].get("odoo_ms_p99"),
                              hooks[p]["server"].get("sql_ms_p50")) for p in providers])
        row("SQL queries per delivery: median (min–max)", [
            "%s (%s–%s)" % (hooks[p]["server"].get("sql_median"),
                            hooks[p]["server"].get("sql_min"),
                            hooks[p]["server"].get("sql_max")) for p in providers])
        row("answers", [", ".join("%s × %s" % (v, k) for k, v in sorted(
            hooks[p]["statuses"].items())) for p in providers])
        row("change rows recorded / events sent", [
            "{:,} / {:,}".format(hooks[p]["recorded"], hooks[p]["sent_events"])
            for p in providers], mark(all(hooks[p]["recorded"] == hooks[p]["sent_events"]
                                          for p in providers), "all"))
        row("cron triggers created", ["{:,}".format(hooks[p]["cron_triggers"])
                                      for p in providers])
        row("server protocol (keep-alive)", [", ".join(hooks[p]["http"]) for p in providers])
        compared = [p for p in providers if len(hooks[p].get("compare", {})) == 2]
        if compared:
            blocks = hooks[compared[0]]["compare"]["active"]["deliveries"]
            for state, label in (("active", "jobs active (as above)"),
                                 ("inactive", "jobs inactive: no trigger")):
                row("blocks of %s, %s: ack p50 / p99 ms; Odoo p50 ms; SQL" % (
                    COMPARE_BLOCK, label), [
                    "%s / %s; %s; %s" % (
                        hooks[p]["compare"][state]["p50_ms"],
                        hooks[p]["compare"][state]["p99_ms"],
                        hooks[p]["compare"][state].get("server", {}).get("odoo_ms_p50"),
                        hooks[p]["compare"][state].get("server", {}).get("sql_median"))
                    if p in compared else "" for p in providers],
                    "%s deliveries each" % "{:,}".format(blocks) if state == "active" else "")
        if after:
            row("the pull after: webhook rows marked read / s / SQL queries / API reads", [
                "{:,} / {} / {} / {}".format(after[p]["marked"], after[p]["seconds"],
                                             after[p]["queries"], after[p]["reads"])
                for p in providers])
        lines.append("")
    lines += [
        "## Applying remote changes", "",
        "n invoices created and posted in Odoo, pushed, each paid in full by a remote user "
        "in the provider's app, then one pull. A change is one remote payment; the pull also "
        "reads (and records as applied) the n invoices whose balance the payments moved. "
        "The naive way reads each webhook event of those payments by id (QBO: the Payment "
        "and the Invoice events; Xero: the INVOICE UPDATE event, then the payment it lists) "
        "and applies nothing. Rate limits off; limits' minutes are reads ÷ the published "
        "per-company limit (QBO 500/min, Xero 60/min). Odoo's payment wizard alone: "
        "`account.payment.register` called as the applier calls it, one payment per "
        "invoice, on n invoices no connection sends.", ""]
    baseline = {b["n"]: b for b in results["baseline"]}
    for provider in providers:
        runs = [r for r in results["apply"] if r["provider"] == provider]
        lines += ["### %s" % LABELS[provider], "",
                  "| metric | %s | target |" % " | ".join("n = %s" % r["n"] for r in runs),
                  "|---|%s---|" % ("---|" * len(runs))]

        def line(label, values, target=""):
            lines.append("| %s | %s | %s |" % (label, " | ".join(map(str, values)), target))

        line("payments applied per minute (one pull)", [
            "{:,}".format(r["payments_per_minute"]) for r in runs])
        line("pull wall time, s", [r["first"]["seconds"] for r in runs])
        line("changes read / applied / ignored / failed", [
            "%(received)s / %(applied)s / %(ignored)s / %(failed)s" % r["first"]
            for r in runs])
        line("API reads (the run's) / API calls (the sandbox's)", [
            "%s / %s" % (r["first"]["reads"], r["first"]["api_calls"]) for r in runs])
        line("API reads per change", [r["reads_per_change"] for r in runs],
             mark(all(r["reads_per_change"] <= READS_TARGET for r in runs),
                  "≤ %s" % READS_TARGET))
        line("SQL queries per change", [r["sql_per_change"] for r in runs])
        line("Odoo CPU ms per change", [r["cpu_ms_per_change"] for r in runs])
        line("CPU ms per payment change applied: first → last quarter of the pull", [
            "%(payment_ms_first_quarter)s → %(payment_ms_last_quarter)s" % r["first"]
            for r in runs])
        line("live Odoo environments in the pull's transaction: first → last payment", [
            "{:,} → {:,}".format(r["first"]["environments_first"],
                                 r["first"]["environments_last"]) for r in runs])
        line("Odoo's payment wizard alone, same n, one transaction: payments per minute / "
             "SQL queries / CPU ms per payment (first → last quarter) / live environments "
             "first → last", [wizard(baseline[r["n"]]) for r in runs])
        committed = results.get("baseline_commit")
        if committed:
            line("the same, a commit after each payment (n = %s)" % committed["n"], [
                wizard(committed) if r["n"] == committed["n"] else "" for r in runs])
        line("invoices paid once (in full, one payment)", [
            "%s / %s" % (r["paid_once"], r["n"]) for r in runs],
             mark(all(r["paid_once"] == r["n"] for r in runs), "all"))
        line("second pull: changes read / applied / payments added / API reads", [
            "%(received)s / %(applied)s / %(payments_added)s / %(reads)s" % r["second"]
            for r in runs], mark(all(r["second"]["applied"] == 0
                                     and r["second"]["payments_added"] == 0 for r in runs),
                                 "0 applied, 0 added"))
        line("naive: webhook events / reads", [
            "%s / %s" % (r["naive"]["events"], r["naive"]["reads"]) for r in runs])
        line("naive: reads per change", [r["naive_reads_per_change"] for r in runs])
        line("naive: time of the reads alone, s", [r["naive"]["seconds"] for r in runs])
        line("limit's minutes: pull → naive", [
            "%.3f → %.3f" % (r["first"]["reads"] / CALLS_PER_MINUTE[provider],
                             r["naive"]["reads"] / CALLS_PER_MINUTE[provider])
            for r in runs])
        lines.append("")
    text = "\n".join(lines)
    print(text)
    with open(os.path.join(ROOT, "benchmarks", "last-two-way-results.md"), "w") as out:
        out.write(text + "\n")


# -- main -------------------------------------------------------------------------------------

def database_exists(db):
    listed = subprocess.run(["psql", "-lqt"], capture_output=True, text=True).stdout
    return db in [line.split("|")[0].strip() for line in listed.splitlines()]


def drop_database(db):
    subprocess.run(["dropdb", "--if-exists", db], check=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--deliveries", type=int, default=10000,
                        help="webhook deliveries to each endpoint (0: none)")
    parser.add_argument("--warmup", type=int, default=50,
                        help="deliveries to each endpoint first, not counted")
    parser.add_argument("--changes", default="50,200",
                        help="remote payments applied by one pull, one run per size")
    parser.add_argument("--providers", default="quickbooks_online,xero")
    parser.add_argument("--legacy-share", type=float, default=0.2,
                        help="QBO deliveries in the legacy eventNotifications format")
    parser.add_argument("--compare", type=int, default=2000,
                        help="further deliveries to each endpoint in blocks of %s, the jobs "
                             "they trigger alternately active and inactive" % COMPARE_BLOCK)
    parser.add_argument("--server-db-filter", action="store_true",
                        help="start the Odoo server with --db-filter (as multi-database "
                             "hosting does)")
    parser.add_argument("--db", default="accounting_sync_bench_two_way")
    parser.add_argument("--keep-db", action="store_true",
                        help="keep the database at the end (and reuse it if it exists)")
    parser.add_argument("--phase", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--sandbox", help=argparse.SUPPRESS)
    parser.add_argument("--load", type=float, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    args.changes = [int(n) for n in args.changes.split(",") if n]
    args.providers = args.providers.split(",")
    if args.db in ("as11", "as_fuzz") or not args.db.startswith("accounting_sync_bench"):
        raise SystemExit("use a database of its own (accounting_sync_bench...)")
    if args.phase:
        return measure(args)
    os.makedirs(os.path.join(ROOT, ".run"), exist_ok=True)
    args.load = os.getloadavg()[0]
    if database_exists(args.db) and not args.keep_db:
        drop_database(args.db)
    sync_bench.ensure_database(args.db)
    sandbox, args.sandbox = start_sandbox(free_port())
    try:
        command = [sys.executable, os.path.abspath(__file__), "--phase", "--db", args.db,
                   "--sandbox", args.sandbox, "--deliveries", str(args.deliveries),
                   "--warmup", str(args.warmup),
                   "--changes", ",".join(map(str, args.changes)),
                   "--providers", ",".join(args.providers),
                   "--legacy-share", str(args.legacy_share), "--compare", str(args.compare)]
        if args.server_db_filter:
            command.append("--server-db-filter")
        output = subprocess.run(command, stdout=subprocess.PIPE, text=True, env=child_env())
        for line in output.stdout.splitlines():
            if line.startswith("RESULT "):
                report(json.loads(line[len("RESULT "):]), args)
                break
            print(line)
        else:
            raise SystemExit("the measurement failed")
    finally:
        sandbox.terminate()
        sandbox.wait(10)
        if not args.keep_db:
            drop_database(args.db)
    return None


if __name__ == "__main__":
    main()
