"""Benchmark: push N invoices (with their customers and product, then their payments) from a
real Odoo database to the provider sandbox with the providers' published rate limits
enforced, batched as accounting_sync does it and one call per document as peer connectors do
it. Prints figures (and writes benchmarks/last-results.md); it is not a test.

    ./scripts/benchmark --n 2000 [--providers quickbooks_online,xero] [--time-scale 1]
        [--baseline-n 100] [--baseline-time-scale 5] [--db accounting_sync_bench]

The time scales are the sandbox's (and the client's) clock speed: 1 = the real limits.
Each measurement runs in a process of its own (``--phase``) so that its peak memory
(ru_maxrss) is its own; the data set is generated beforehand in another (``--prepare``).
"""
import argparse
import dataclasses
import json
import os
import resource
import socket
import subprocess
import sys
import time
from datetime import date, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import requests

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FIRST_DAY = date(2018, 1, 1)
BATCH = 50  # invoices generated (and paid) together; use run sizes that are multiples
# The best any client could do under the published limits and batch sizes, in records per
# provider minute: QBO 40 batch requests/min x 30 operations (its 500 requests/min allow
# more); Xero 60 requests/min x 50 elements (5,000 requests/day do not bind below 250,000).
CEILING = {"quickbooks_online": 40 * 30, "xero": 60 * 50}
CALLS_TARGET = {"quickbooks_online": 25, "xero": 45}
REMOTE = {
    "quickbooks_online": {"code": "qbo", "company": "9341453050000001", "tax": "TAX",
                          "income": "Services", "bank": "Checking", "rate": 8.25},
    "xero": {"code": "xero", "company": "11111111-1111-4111-8111-111111111111",
             "tax": "20% (VAT on Income)", "income": "Sales",
             "bank": "Business Bank Account", "rate": 20.0},
}


def odoo_env(db):
    import odoo  # noqa: PLC0415 - only once Odoo's path is known
    from odoo.modules.registry import Registry  # noqa: PLC0415
    odoo.tools.config.parse_config([
        "--addons-path=%s/addons,%s" % (os.path.dirname(os.path.dirname(odoo.__file__)), ROOT),
        "-d", db, "--log-level=warn"])
    registry = Registry(db)
    cr = registry.cursor()
    return odoo.api.Environment(cr, odoo.SUPERUSER_ID, {}), cr


def ensure_database(db):
    listed = subprocess.run(["psql", "-lqt"], capture_output=True, text=True).stdout
    exists = db in [line.split("|")[0].strip() for line in listed.splitlines()]
    print("%s database %s (a minute)" % ("updating accounting_sync in" if exists
                                         else "creating", db), flush=True)
    subprocess.run([sys.executable, "-m", "odoo", "-d", db,
                    "-u" if exists else "-i", "accounting_sync",
                    "--addons-path=%s" % addons_path(), "--without-demo=all",
                    "--stop-after-init", "--log-level=warn"], check=True)


def addons_path():
    import odoo  # noqa: PLC0415
    return "%s/addons,%s" % (os.path.dirname(os.path.dirname(odoo.__file__)), ROOT)


def day(index):
    """Invoice ``index`` of the data set is dated FIRST_DAY + index days."""
    return FIRST_DAY + timedelta(days=index)


def generate(env, cr, total):
    """``total`` posted invoices, one a day from FIRST_DAY (one line, a service, one sale
    tax), total/20 customers, each invoice paid by a payment of its own. A run on n invoices
    takes the last n (its sync start date is the n-th last day). Reused."""
    Move = env["account.move"]
    # The queue benchmark edits references ("bench edit ..."): those invoices still count.
    moves = Move.search([("ref", "=like", "bench%"), ("move_type", "=", "out_invoice"),
                         ("state", "=", "posted")], order="date, id")
    if len(moves) >= total:
        return
    product = env["product.product"].search([("default_code", "=", "BENCH")], limit=1) or \
        env["product.product"].create({"name": "Bench service", "type": "service",
                                       "default_code": "BENCH", "list_price": 50.0})
    partners = env["res.partner"].search([("name", "=like", "Bench customer %")])
    if len(partners) < max(total // 20, 1):
        partners |= env["res.partner"].create([{
            "name": "Bench customer %05d" % i, "email": "bench%05d@example.com" % i,
            "is_company": True} for i in range(len(partners), max(total // 20, 1))])
    bank = env["account.journal"].search([("type", "=", "bank"),
                                          ("company_id", "=", env.company.id)], limit=1)
    for start in range(len(moves), total, BATCH):
        batch = Move.create([{
            "move_type": "out_invoice", "partner_id": partners[i % len(partners)].id,
            "invoice_date": day(i), "date": day(i), "ref": "bench",
            "invoice_line_ids": [(0, 0, {"product_id": product.id, "quantity": 1 + i % 5,
                                         "price_unit": 10.0 + (i % 97) * 1.37})],
        } for i in range(start, min(start + BATCH, total))])
        batch.action_post()
        # One payment per invoice (group_payment off), dated on the batch's last day: a run
        # on the last n days (n a multiple of BATCH) holds each payment with its invoice.
        env["account.payment.register"].with_context(
            active_model="account.move", active_ids=batch.ids).create({
                "payment_date": max(batch.mapped("invoice_date")), "journal_id": bank.id,
                "group_payment": False,
            })._create_payments()
        cr.commit()
        env.invalidate_all()
        print("  %s invoices and payments" % min(start + BATCH, total), flush=True)


def connect(env, provider, sandbox_url, start, remote_company=None, replace=True):
    """A connected connection of the benchmark's company to ``remote_company`` (default:
    the provider's first sandbox company), its income and bank accounts and sale tax
    mapped; ``replace``: the provider's other connections are removed first."""
    from odoo.addons.accounting_sync.providers import get_adapter  # noqa: PLC0415
    remote = dict(REMOTE[provider], company=remote_company or REMOTE[provider]["company"])
    env["accounting.sync.app.setting"]._set(provider, client_id="bench-client",
                                            client_secret="bench-secret")
    env["ir.config_parameter"].set_param("accounting_sync.local_url", sandbox_url)  # the only sandbox it may call
    adapter = get_adapter(provider, client_id="bench-client", client_secret="bench-secret",
                          environment="local", base_url=sandbox_url)
    requests.post(sandbox_url + "/_sandbox/configure", json={"auto_approve": {
        "login": "bench@example.com", "companies": [remote["company"]]}}, timeout=10)
    url, verifier = adapter.authorization_url("http://127.0.0.1/cb", "all_accounting", "s")
    location = requests.get(url, allow_redirects=False, timeout=10).headers["Location"]
    tokens = adapter.exchange_code(parse_qs(urlsplit(location).query)["code"][0],
                                   "http://127.0.0.1/cb", code_verifier=verifier)
    Connection = env["accounting.sync.connection"].with_context(active_test=False)
    if replace:
        Connection.search([("provider", "=", provider)]).unlink()
    connection = Connection.create({
        "name": "Bench %s %s" % (provider, remote["company"][:8]), "provider": provider, "environment": "local",
        "local_url": sandbox_url, "sync_start_date": start})
    connection.write({"state": "connected", "remote_company_id": remote["company"],
                      "remote_company_name": "Bench", **connection._token_values(tokens)})
    connection._refresh_chart()
    product = env["product.product"].search([("default_code", "=", "BENCH")], limit=1)
    tax = product.taxes_id[:1]
    income = product.property_account_income_id or \
        product.categ_id.property_account_income_categ_id
    bank = env["account.journal"].search([("type", "=", "bank"),
                                          ("company_id", "=", env.company.id)], limit=1)
    for kind, record, name in (("account", income, remote["income"]),
                               ("account", bank.default_account_id, remote["bank"]),
                               ("tax", tax, remote["tax"])):
        target = connection.remote_record_ids.filtered(
            lambda r, k=kind, n=name: r.kind == k and r.name == n)
        env["accounting.sync.mapping"].create({
            "connection_id": connection.id, "kind": kind,
            "%s_id" % kind: record.id, "remote_record_id": target.id, "matched_by": "manual"})
    return connection


def measure(args):
    """One measurement, in this process: connect, sync, report."""
    env, cr = odoo_env(args.db)
    import odoo.sql_db  # noqa: PLC0415 - once Odoo is set up
    from odoo.addons.accounting_sync.providers import ADAPTERS  # noqa: PLC0415
    requests.post(args.sandbox + "/_sandbox/reset", timeout=10)
    requests.post(args.sandbox + "/_sandbox/configure", json={
        "rate_limits": True, "time_scale": args.time_scale}, timeout=10)
    # The client paces to the sandbox's clock, as it paces to the real one in production.
    env["ir.config_parameter"].set_param("accounting_sync.local_time_scale",
                                         str(args.time_scale))
    connection = connect(env, args.provider, args.sandbox, day(args.total - args.n))
    cr.commit()
    if args.one_per_document:
        # As peer connectors do: one record per request.
        adapter_class = ADAPTERS[args.provider]
        adapter_class.CAPABILITIES = dataclasses.replace(adapter_class.CAPABILITIES,
                                                         batch_size=1)
    calls_before = api_calls(args.sandbox, REMOTE[args.provider]["code"])
    queries, cpu, wall = odoo.sql_db.sql_counter, time.process_time(), time.time()
    sleeping, runs = 0.0, 0
    while True:
        # What the connection's cron job does: call again while a run pauses after its time
        # share, and after a throttled run, wait until the time it was rescheduled for.
        run = connection._sync(trigger="button", commit=True)
        runs += 1
        if run.state == "paused":
            continue
        if run.state != "interrupted":
            break
        pause = max((connection.next_sync_at - datetime.utcnow()).total_seconds(), 0.05)
        time.sleep(pause)
        sleeping += pause
    wall = time.time() - wall
    cpu = time.process_time() - cpu
    queries = odoo.sql_db.sql_counter - queries
    Binding = env["accounting.sync.binding"]
    synced = Binding.search_count([("connection_id", "=", connection.id),
                                   ("state", "=", "synced")])
    failed = Binding.search_count([("connection_id", "=", connection.id),
                                   ("state", "=", "failed")])
    calls = api_calls(args.sandbox, REMOTE[args.provider]["code"]) - calls_before
    provider_minutes = wall * args.time_scale / 60
    result = {
        "provider": args.provider, "n": args.n, "one_per_document": args.one_per_document,
        "records": synced, "failed": failed, "wall_s": round(wall, 2),
        "records_per_provider_min": round(synced / provider_minutes, 1),
        "ceiling_per_provider_min": CEILING[args.provider],
        "ratio_to_ceiling": round(synced / provider_minutes / CEILING[args.provider], 3),
        "api_calls": calls, "documents_per_call": round(synced / max(calls, 1), 1),
        "sql_per_document": round(queries / synced, 2),
        "cpu_ms_per_document": round(cpu * 1000 / synced, 2),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "throttled_waits_s": round(sleeping, 2), "calls_to_sync": runs,
        "refused_429": refused(args.sandbox, REMOTE[args.provider]["code"]),
    }
    cr.commit()
    cr.close()
    print("RESULT " + json.dumps(result), flush=True)


def refused(sandbox, code):
    calls = requests.get(sandbox + "/_sandbox/calls", params={"provider": code},
                         timeout=30).json()
    return sum(1 for call in calls if call.get("status") == 429)


def api_calls(sandbox, code):
    response = requests.get(sandbox + "/_sandbox/api_calls", params={"provider": code},
                            timeout=10)
    return response.json()["count"]


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def prepare(args):
    """Generate (or reuse) the data set, in a process of its own."""
    env, cr = odoo_env(args.db)
    generate(env, cr, args.total)
    cr.commit()
    cr.close()


def run_phase(args, provider, n, one_per_document, time_scale):
    command = [sys.executable, os.path.abspath(__file__), "--phase", "--db", args.db,
               "--provider", provider, "--n", str(n), "--time-scale", str(time_scale),
               "--sandbox", args.sandbox, "--total", str(args.n)]
    if one_per_document:
        command.append("--one-per-document")
    return phase_result(command, provider)


def phase_result(command, provider):
    """Run one phase (a process of its own) and answer the RESULT it printed."""
    output = subprocess.run(command, capture_output=True, text=True, env=dict(
        os.environ, PYTHONPATH=ROOT + os.pathsep + os.environ.get("PYTHONPATH", "")))
    for line in output.stdout.splitlines():
        if line.startswith("RESULT "):
            return json.loads(line[len("RESULT "):])
    sys.stderr.write(output.stdout[-3000:] + output.stderr[-3000:])
    raise SystemExit("the %s phase failed" % provider)


def report(results, args):
    lines = ["# accounting_sync sync benchmark", "",
             "`./scripts/benchmark --n %s --baseline-n %s --time-scale %s "
             "--baseline-time-scale %s`" % (args.n, args.baseline_n, args.time_scale,
                                            args.baseline_time_scale), "",
             "The sandbox enforces each provider's published rate limits (QBO 10/s, 500/min, "
             "40 batch requests/min; Xero 60/min, 5,000/day) on a clock running %s× for the "
             "batched runs and %s× for the one-call-per-document runs; the client paces to "
             "the same clock. Rates are records per provider minute, so both compare with the "
             "ceiling: the best any client could do under the limits and batch sizes."
             % (args.time_scale, args.baseline_time_scale), ""]
    for provider in args.providers:
        batched, baseline, small = (results[(provider, k)]
                                    for k in ("batched", "one", "small"))
        rows = [
            ("records synced (customers, product, invoices, payments)",
             batched["records"], baseline["records"], ""),
            ("records per provider minute", batched["records_per_provider_min"],
             baseline["records_per_provider_min"], ""),
            ("ratio to the ceiling (%s/min)" % CEILING[provider],
             batched["ratio_to_ceiling"], baseline["ratio_to_ceiling"],
             mark(batched["ratio_to_ceiling"] >= 0.9, "≥ 0.90")),
            ("records per API call", batched["documents_per_call"],
             baseline["documents_per_call"],
             mark(batched["documents_per_call"] >= CALLS_TARGET[provider],
                  "≥ %s" % CALLS_TARGET[provider])),
            ("SQL queries per record", batched["sql_per_document"],
             baseline["sql_per_document"], mark(batched["sql_per_document"] <= 3.5, "≤ 3.5")),
            ("Odoo CPU ms per record", batched["cpu_ms_per_document"],
             baseline["cpu_ms_per_document"], mark(batched["cpu_ms_per_document"] <= 10, "≤ 10")),
            ("failed records", batched["failed"], baseline["failed"], ""),
            ("requests the sandbox refused (429)", batched["refused_429"],
             baseline["refused_429"], ""),
            ("peak RSS MB, batched n=%s → n=%s" % (small["n"], batched["n"]),
             small["peak_rss_mb"], batched["peak_rss_mb"],
             mark(batched["peak_rss_mb"] <= 1.5 * small["peak_rss_mb"],
                  "10×n ≤ 1.5× n (%.2f×)" % (batched["peak_rss_mb"] / small["peak_rss_mb"]))),
        ]
        lines += ["## %s" % provider, "",
                  "| metric | batched (n=%s) | one call per document (n=%s) | target |"
                  % (batched["n"], baseline["n"]), "|---|---|---|---|"]
        lines += ["| %s | %s | %s | %s |" % row for row in rows]
        lines.append("")
    text = "\n".join(lines)
    print(text)
    with open(os.path.join(ROOT, "benchmarks", "last-results.md"), "w") as out:
        out.write(text + "\n")


def mark(ok, target):
    return "%s %s" % ("✔" if ok else "✘", target)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=2000)
    parser.add_argument("--baseline-n", type=int, default=100,
                        help="invoices for the one-call-per-document baseline")
    parser.add_argument("--total", type=int, default=None, help=argparse.SUPPRESS)
    parser.add_argument("--providers", default="quickbooks_online,xero")
    parser.add_argument("--time-scale", type=float, default=1.0,
                        help="the sandbox's (and the client's) clock speed for the batched "
                             "runs: 1 = the providers' real limits")
    parser.add_argument("--baseline-time-scale", type=float, default=5.0,
                        help="clock speed for the one-call-per-document runs, which at real "
                             "speed would take Xero's 60 calls a minute most of an hour")
    parser.add_argument("--db", default="accounting_sync_bench")
    parser.add_argument("--phase", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--prepare", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--provider", help=argparse.SUPPRESS)
    parser.add_argument("--sandbox", help=argparse.SUPPRESS)
    parser.add_argument("--one-per-document", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.prepare:
        return prepare(args)
    if args.phase:
        return measure(args)
    args.providers = args.providers.split(",")
    ensure_database(args.db)
    print("data set: %s invoices and their payments" % args.n, flush=True)
    subprocess.run([sys.executable, os.path.abspath(__file__), "--prepare", "--db", args.db,
                    "--total", str(args.n)], check=True, env=dict(
                        os.environ, PYTHONPATH=ROOT + os.pathsep + os.environ.get("PYTHONPATH",
                                                                                  "")))
    port = free_port()
    sandbox = subprocess.Popen([sys.executable, "-m", "provider_sandbox", "--port", str(port)],
                               cwd=ROOT)
    args.sandbox = "http://127.0.0.1:%s" % port
    try:
        for _attempt in range(50):
            try:
                requests.get(args.sandbox + "/", timeout=1)
                break
            except requests.ConnectionError:
                time.sleep(0.1)
        results = {}
        for provider in args.providers:
            print("== %s" % provider, flush=True)
            results[(provider, "batched")] = run_phase(args, provider, args.n, False,
                                                       args.time_scale)
            results[(provider, "one")] = run_phase(args, provider, args.baseline_n, True,
                                                   args.baseline_time_scale)
            results[(provider, "small")] = run_phase(args, provider, max(args.n // 10, 1),
                                                     False, args.time_scale)
        report(results, args)
    finally:
        sandbox.terminate()
    return None


if __name__ == "__main__":
    main()
