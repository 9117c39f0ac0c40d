"""Benchmark of a reconciliation, for QuickBooks Online and Xero: how many metered reads and
how much Odoo time comparing n synced documents costs, beside one read per document (how a
connector without report and paged reads checks its documents). Prints figures (and writes
benchmarks/last-reconcile-results.md); it is not a test.

    ./scripts/benchmark reconcile [--sizes 500,2000] [--providers quickbooks_online,xero]
        [--db accounting_sync_bench]

Data: the push benchmark's data set (``sync_bench.generate``: posted invoices, one line,
one service, one sale tax, each paid by a payment of its own), the largest size of
``--sizes``; a run on n documents takes the last n invoices (its connection's sync start
date). For each provider and size, in a process of its own: a connection to a freshly
reset sandbox company (rate limits off: the reads are counted, not paced), its income,
bank, receivable and tax accounts mapped; everything synced (``connection._sync``); then
one reconciliation (``accounting.sync.reconciliation._reconcile``, no read budget), timed
in this process (Odoo's SQL counter, its CPU time, wall time) with its reads (the run's
``reads_used``, and the sandbox's count of API calls received). The baseline reads each
synced invoice once by its id with the connection's tokens (QBO ``GET /invoice/<id>``,
Xero ``GET /Invoices/<id>``) plus the reports, counting reads and their time; it compares
nothing.
"""
import argparse
import json
import os
import subprocess
import sys
import time

import requests

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import sync_bench  # noqa: E402 - the database, data set and connection are the push benchmark's
from queue_bench import start_sandbox  # noqa: E402
from sync_bench import REMOTE, ROOT, api_calls, day  # noqa: E402

LABELS = {"quickbooks_online": "QuickBooks Online", "xero": "Xero"}
READS_TARGET = {"quickbooks_online": 2, "xero": 11}   # reads per 1,000 documents
REPORT_READS = {"quickbooks_online": 3, "xero": 1}    # the baseline's report reads
# The sales tax liability account the sandbox's seeded charts leave out (QBO makes it when
# sales tax is set up; Xero's is its GST system account).
TAX_ACCOUNTS = {
    "quickbooks_online": ("Account", {"Name": "Sales Tax Payable",
                                      "AccountType": "Other Current Liability",
                                      "AccountSubType": "SalesTaxPayable"}),
    "xero": ("Accounts", {"Code": "820", "Name": "VAT", "Type": "CURRLIAB",
                          "SystemAccount": "GST"}),
}
RECEIVABLE = {"quickbooks_online": "Accounts Receivable (A/R)", "xero": "Accounts Receivable"}


def map_ledger(env, connection, provider):
    """Map what the trial balance of these books touches besides income, bank and tax
    (mapped by ``sync_bench.connect``): the receivable, the tax and the payments'
    outstanding accounts."""
    company = env.company
    bank = env["account.journal"].search([("type", "=", "bank"),
                                          ("company_id", "=", company.id)], limit=1)
    product = env["product.product"].search([("default_code", "=", "BENCH")], limit=1)
    tax = product.taxes_id[:1]
    receivable = env["res.partner"].search([("name", "=like", "Bench customer %")],
                                           limit=1).property_account_receivable_id
    pairs = [(receivable, RECEIVABLE[provider]),
             (tax.invoice_repartition_line_ids.account_id, TAX_ACCOUNTS[provider][1]["Name"])]
    outstanding = env["account.payment"].search(
        [("company_id", "=", company.id), ("journal_id", "=", bank.id)],
        limit=1).outstanding_account_id
    pairs += [(account, REMOTE[provider]["bank"]) for account in
              outstanding - bank.default_account_id]
    for account, name in pairs:
        target = connection.remote_record_ids.filtered(
            lambda r, n=name: r.kind == "account" and r.name == n)
        if account and target:
            env["accounting.sync.mapping"].create({
                "connection_id": connection.id, "kind": "account", "account_id": account.id,
                "remote_record_id": target[:1].id, "matched_by": "manual"})


def one_read_per_document(connection, provider):
    """The baseline: each synced invoice read by its id, and the reports: (reads, seconds)."""
    from odoo.addons.accounting_sync.providers.books import ReadBudget  # noqa: PLC0415
    bindings = connection.env["accounting.sync.binding"].search([
        ("connection_id", "=", connection.id), ("remote_type", "=", "invoice"),
        ("remote_id", "!=", False)])
    remote_ids = bindings.mapped("remote_id")
    started = time.time()

    def read(adapter, tokens):
        writer = adapter._writer(tokens, connection.remote_company_id)
        for remote_id in remote_ids:
            if provider == "quickbooks_online":
                writer.read_entity("Invoice", remote_id)
            else:
                writer.call(writer.api.get_invoice, remote_id)
        # the reports (the trial balance; QBO's agings): read once, as the reconciliation does
        adapter.books(tokens, connection.remote_company_id, connection.sync_start_date,
                      connection.sync_start_date, (), budget=ReadBudget(REPORT_READS[provider]))
    connection._call_provider(read)
    return len(remote_ids) + REPORT_READS[provider], time.time() - started


def measure(args):
    env, cr = sync_bench.odoo_env(args.db)
    import odoo.sql_db  # noqa: PLC0415 - once Odoo is set up
    code = REMOTE[args.provider]["code"]
    requests.post(args.sandbox + "/_sandbox/reset", timeout=10)
    resource, record = TAX_ACCOUNTS[args.provider]
    requests.post(args.sandbox + "/_sandbox/seed", json={
        "provider": code, "resource": resource, "record": record,
        "company": REMOTE[args.provider]["company"]}, timeout=10)
    env["ir.config_parameter"].set_param("accounting_sync.local_time_scale", "1000")
    connection = sync_bench.connect(env, args.provider, args.sandbox,
                                    day(args.total - args.n))
    map_ledger(env, connection, args.provider)
    connection.reconciliation_read_budget = 0
    cr.commit()
    pushed = time.time()
    Binding = env["accounting.sync.binding"]
    for _run in range(50):  # as the connection's job does: again while work remains
        run = connection._sync(trigger="button", commit=True)
        if run.state not in ("paused", "interrupted") and not Binding._due_exists(connection):
            break
        time.sleep(0.05)
    pushed = time.time() - pushed
    unsynced = Binding.search_count([("connection_id", "=", connection.id),
                                     ("state", "!=", "synced")])
    cr.commit()
    env.invalidate_all()
    calls_before = api_calls(args.sandbox, code)
    queries, cpu, wall = odoo.sql_db.sql_counter, time.process_time(), time.time()
    rec = env["accounting.sync.reconciliation"]._reconcile(connection)
    wall = time.time() - wall
    cpu = time.process_time() - cpu
    queries = odoo.sql_db.sql_counter - queries
    calls = api_calls(args.sandbox, code) - calls_before
    cr.commit()
    baseline_reads, baseline_wall = one_read_per_document(connection, args.provider)
    documents = rec.documents_compared
    result = {
        "provider": args.provider, "n": args.n, "state": rec.state,
        "documents": documents, "differences": rec.difference_count,
        "classes": sorted(set(rec.line_ids.filtered("difference_class")
                              .mapped("difference_class"))),
        "reads": rec.reads_used, "api_calls": calls,
        "reads_per_1000": round(rec.reads_used * 1000 / max(documents, 1), 2),
        "wall_s": round(wall, 2), "cpu_ms_per_1000": round(cpu * 1e6 / max(documents, 1), 1),
        "sql_per_1000": round(queries * 1000 / max(documents, 1), 1),
        "baseline_reads": baseline_reads,
        "baseline_reads_per_1000": round(baseline_reads * 1000 / max(documents, 1), 1),
        "baseline_wall_s": round(baseline_wall, 2), "push_wall_s": round(pushed, 1),
        "not_synced": unsynced,
    }
    cr.commit()
    cr.close()
    print("RESULT " + json.dumps(result), flush=True)


def run_phase(args, provider, n, total):
    command = [sys.executable, os.path.abspath(__file__), "--phase", "--db", args.db,
               "--provider", provider, "--n", str(n), "--total", str(total),
               "--sandbox", args.sandbox]
    return sync_bench.phase_result(command, provider)


def report(results, args):
    lines = ["# accounting_sync reconciliation benchmark", "",
             "`./scripts/benchmark reconcile --sizes %s --providers %s`" % (
                 args.sizes, ",".join(args.providers)), "",
             "n synced invoices (each paid), reconciled with no read budget; reads are the "
             "calls the provider meters (the sandbox counted the same). Baseline: one read "
             "per document by its id, plus the reports.", ""]
    for provider in args.providers:
        runs = [results[(provider, n)] for n in args.size_list]
        small, large = runs[0], runs[-1]
        marginal = (large["reads"] - small["reads"]) * 1000 / max(
            large["documents"] - small["documents"], 1)
        lines += ["## %s" % LABELS[provider], "",
                  "| metric | %s | target |" % " | ".join("n=%s" % r["n"] for r in runs),
                  "|---|%s---|" % ("---|" * len(runs))]

        def row(label, key, target=""):
            return "| %s | %s | %s |" % (label, " | ".join(str(r[key]) for r in runs), target)
        ok = large["reads_per_1000"] <= READS_TARGET[provider]
        lines += [
            row("documents compared", "documents"),
            row("differences", "differences"),
            row("reads", "reads"),
            row("reads per 1,000 documents", "reads_per_1000",
                "%s ≤ %s at n=%s" % ("✔" if ok else "✘", READS_TARGET[provider], large["n"])),
            "| reads per 1,000 more documents (n=%s → n=%s) | %s | |" % (
                small["n"], large["n"], " | ".join([""] * (len(runs) - 1) + [
                    str(round(marginal, 2))])),
            row("baseline: reads (one per document)", "baseline_reads"),
            row("baseline: reads per 1,000 documents", "baseline_reads_per_1000"),
            row("Odoo CPU ms per 1,000 documents", "cpu_ms_per_1000"),
            row("SQL queries per 1,000 documents", "sql_per_1000"),
            row("reconciliation wall time (s)", "wall_s"),
            row("baseline wall time (s)", "baseline_wall_s"),
            ""]
        for r in runs:
            if r["differences"]:
                lines.append("n=%s: %s differences, classes %s" % (
                    r["n"], r["differences"], ", ".join(r["classes"])))
        lines.append("")
    text = "\n".join(lines)
    print(text)
    with open(os.path.join(ROOT, "benchmarks", "last-reconcile-results.md"), "w") as out:
        out.write(text)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="500,2000")
    parser.add_argument("--providers", default="quickbooks_online,xero")
    parser.add_argument("--db", default="accounting_sync_bench")
    parser.add_argument("--n", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--total", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--phase", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--provider", help=argparse.SUPPRESS)
    parser.add_argument("--sandbox", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.phase:
        return measure(args)
    args.providers = args.providers.split(",")
    args.size_list = sorted(int(s) for s in args.sizes.split(","))
    total = args.size_list[-1]
    sync_bench.ensure_database(args.db)
    print("data set: %s invoices and their payments" % total, flush=True)
    subprocess.run([sys.executable, sync_bench.__file__, "--prepare", "--db", args.db,
                    "--total", str(total)], check=True, env=dict(
                        os.environ, PYTHONPATH=ROOT + os.pathsep + os.environ.get("PYTHONPATH",
                                                                                  "")))
    process, args.sandbox = start_sandbox(sync_bench.free_port())
    try:
        results = {}
        for provider in args.providers:
            for n in args.size_list:
                print("== %s, n=%s" % (provider, n), flush=True)
                results[(provider, n)] = run_phase(args, provider, n, total)
                print("   %s" % json.dumps(results[(provider, n)]), flush=True)
        report(results, args)
    finally:
        process.terminate()
    return None


if __name__ == "__main__":
    main()
