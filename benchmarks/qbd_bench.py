"""Benchmark of QuickBooks Desktop through the Web Connector: N invoices with their
customers, product and payments pushed by the provider sandbox's Web Connector client to a
real Odoo HTTP server's /accounting_sync/qbwc, at the connection's batch size (requests per
exchange) and, as the baseline, one request per exchange, in the same run. Prints figures
(and writes benchmarks/last-qbd-results.md); it is not a test.

    ./scripts/benchmark qbd [--invoices 2000] [--sizes 500,2000] [--baseline-sizes 500,2000]
        [--batch 25] [--validate] [--keep-db]

Database: ``bench_qbd_run`` is created for the run (accounting_sync installed, no demo
data) and dropped at the end (``--keep-db`` keeps it, to look at). A real Odoo server (``python3 -m
odoo`` on that database, threaded, ``--max-cron-threads 0``, werkzeug's access log at INFO)
listens on port 8469. The measurements run in a process of their own (``--phase``), which
also runs the Web Connector client (``provider_sandbox.qbwc.WebConnector``, its SOAP calls
through zeep from Intuit's WSDL) and the in-memory company file
(``provider_sandbox.qbd.CompanyFile``): their time is this process's, not Odoo's.

Data, for each size n (the sizes' data sets dated one after another, each created just
before its runs): n invoices posted (one line of one service with an 8.25 % sales tax, n/10
customers, one a day), then each paid in full by a payment of its own (registered 50
invoices at a time). Each run: a new connection (no other is left) and a fresh US company
file; the first Web Connector session links the lists (measured apart); the income and bank
accounts and the sales tax are mapped; then the sync start date is set to the data set's
first day (its invoices and payments, with their customers and product, are queued once)
and the batch size; then sessions until the Web Connector is told there is nothing to do
(that last, empty session is not counted). Since 0a02fe5 a session pulls what changed in
QuickBooks after its pushes: those reading exchanges are counted with the session and
shown apart.

Figures of the push sessions: exchanges (sendRequestXML calls that carried a request),
qbXML requests, records synced (sync states made synced: customers, product, invoices,
payments), SOAP calls; Odoo's CPU time is the server process's (``psutil``, user + system,
before and after; the server does nothing else meanwhile), its SQL queries and own time per
call from its access log (Odoo's per-request counters: ``<queries> <sql s> <other s>``).
"""
import argparse
import json
import os
import platform
import re
import signal
import statistics
import subprocess
import sys
import time
from collections import Counter
from datetime import date, timedelta

import psutil

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import sync_bench  # noqa: E402 - the Odoo environment and database are the push benchmark's
from sync_bench import ROOT  # noqa: E402
from two_way_bench import (child_env, database_exists, drop_database, invoices,  # noqa: E402
                           mark, start_server, stop_server, unlink_connections)

PORT = 8469
DB = "bench_qbd_run"
FIRST_DAY = date(2019, 1, 1)  # the company file's clock is at 2026-12-01: all before it
PAY_BATCH = 50
TAX_RATE = 8.25  # the sandbox's US sales tax item
RECORDS_PER_EXCHANGE_TARGET = 25
CPU_MS_TARGET = 10
SQL_TARGET = 5
ACCESS_LINE = re.compile(r'"POST /accounting_sync/qbwc HTTP/[\d.]+" (\d+) - '
                         r'(\d+) ([\d.]+) ([\d.]+)')


def master_data(env, customers):
    """The service every invoice sells (its only tax the 8.25 % sales tax) and at least
    ``customers`` customers (made once)."""
    tax = env["account.tax"].search([("name", "=", "Bench sales tax 8.25%")], limit=1) or \
        env["account.tax"].create({"name": "Bench sales tax 8.25%", "amount": TAX_RATE,
                                   "type_tax_use": "sale", "company_id": env.company.id})
    product = env["product.product"].search([("default_code", "=", "BENCHQBD")], limit=1) or \
        env["product.product"].create({"name": "Bench service", "type": "service",
                                       "default_code": "BENCHQBD", "list_price": 50.0,
                                       "taxes_id": [(6, 0, tax.ids)],
                                       "supplier_taxes_id": [(5, 0, 0)]})
    partners = env["res.partner"].search([("name", "=like", "Bench customer %")],
                                         order="name")
    if len(partners) < customers:
        partners |= env["res.partner"].create([{
            "name": "Bench customer %05d" % i, "email": "bench%05d@example.com" % i,
            "is_company": True} for i in range(len(partners), customers)])
    return product, tax, partners


def data_set(env, product, partners, size, first):
    """``size`` posted invoices dated ``first``, ``first`` + 1 day... (size/10 customers:
    the two-way benchmark's), each paid by a payment of its own dated on its group of 50's
    last day."""
    started = time.perf_counter()
    moves = invoices(env, product, partners, size, first, commit=True)
    bank = bank_journal(env)
    for start in range(0, size, PAY_BATCH):
        group = moves[start:start + PAY_BATCH]
        env["account.payment.register"].with_context(
            active_model="account.move", active_ids=group.ids).create({
                "payment_date": max(group.mapped("invoice_date")), "journal_id": bank.id,
                "group_payment": False})._create_payments()
        env.cr.commit()
        env.invalidate_all()
    print("  data set of %s invoices and payments made in %.0f s" % (
        size, time.perf_counter() - started), flush=True)
    return moves


def bank_journal(env):
    return env["account.journal"].search([("type", "=", "bank"),
                                          ("company_id", "=", env.company.id)], limit=1)


# -- one run -------------------------------------------------------------------------------

def server_cpu(server):
    times = psutil.Process(server["process"].pid).cpu_times()
    return times.user + times.system


def access_rows(server, offset):
    """Odoo's figures of each /accounting_sync/qbwc call logged after ``offset``: [(status,
    queries, sql ms, Odoo ms)], and the new offset."""
    rows = []
    with open(server["log_path"], errors="replace") as log:
        log.seek(offset)
        text = log.read()
        offset = log.tell()
    for match in ACCESS_LINE.finditer(text):
        sql, other = float(match.group(3)) * 1000, float(match.group(4)) * 1000
        rows.append((int(match.group(1)), int(match.group(2)), sql, sql + other))
    return rows, offset


def log_offset(server):
    return os.path.getsize(server["log_path"])


def measured_session(connector, server):
    """One Web Connector session with Odoo's and this process's figures."""
    offset, cpu = log_offset(server), server_cpu(server)
    client_cpu, wall = time.process_time(), time.perf_counter()
    report = connector.run_session()
    wall, client_cpu = time.perf_counter() - wall, time.process_time() - client_cpu
    expected = 3 + 2 * report.exchanges + report.noops + (report.close_message is not None)
    rows = []
    for _attempt in range(50):  # the last access line is written as its answer is sent
        more, offset = access_rows(server, offset)
        rows += more
        if len(rows) >= expected:
            break
        time.sleep(0.02)
    cpu = server_cpu(server) - cpu
    return report, {"wall_s": wall, "server_cpu_s": cpu, "client_cpu_s": client_cpu,
                    "rows": rows, "requests": list(connector.last_requests)}


def reading_only(request):
    """Whether a qbXML message only reads (the pull after the pushes, look-ups)."""
    from provider_sandbox.qbwc import WebConnector  # noqa: PLC0415
    names = WebConnector._request_types(request)
    return bool(names) and all(name.endswith("QueryRq") for name in names)


def exchange_rows(report, figures):
    """[(reads only, queries, Odoo ms)] of each exchange of a session: its sendRequestXML
    and its receiveResponseXML (the calls after serverVersion, clientVersion and
    authenticate, in order; a session with NoOps or errors is not split)."""
    rows = figures["rows"]
    if report.noops or len(rows) != 4 + 2 * report.exchanges:
        return []
    calls = rows[3:-1]
    return [(reading_only(request), calls[2 * i][1] + calls[2 * i + 1][1],
             calls[2 * i][3] + calls[2 * i + 1][3])
            for i, request in enumerate(figures["requests"])]


def new_connection(env, product, size, batch):
    """A new QuickBooks Desktop connection (no other left), its Web Connector password."""
    unlink_connections(env)
    connection = env["accounting.sync.connection"].create({
        "name": "Bench QBD n=%s batch=%s" % (size, batch), "provider": "quickbooks_desktop",
        "qbwc_country": "US", "default_product_id": product.id})
    action = connection.action_qbwc_generate_password()
    password = re.search(r": (\S+) —", action["params"]["message"]).group(1)
    env.cr.commit()
    return connection, password


def map_chart(env, connection, product, tax):
    """The income and bank accounts and the sales tax mapped (as an administrator does
    after the first link)."""
    income = product.property_account_income_id or \
        product.categ_id.property_account_income_categ_id
    for kind, record, name in (("account", income, "Services"),
                               ("account", bank_journal(env).default_account_id, "Checking"),
                               ("tax", tax, "Tax")):
        target = connection.remote_record_ids.filtered(
            lambda r, k=kind, n=name: r.kind == k and r.name == n)
        if len(target) != 1:
            raise SystemExit("remote %s %r not found after the link" % (kind, name))
        env["accounting.sync.mapping"].create({
            "connection_id": connection.id, "kind": kind, "%s_id" % kind: record.id,
            "remote_record_id": target.id, "matched_by": "manual"})


def summarize(sessions):
    """The totals of measured sessions: [(report, figures)]."""
    rows = [row for _report, figures in sessions for row in figures["rows"]]
    counts = [n for report, _figures in sessions for n in report.record_counts]
    exchanges = [e for report, figures in sessions for e in exchange_rows(report, figures)]
    reads = [e for e in exchanges if e[0]]
    return {
        "read_exchanges": len(reads), "read_queries": sum(e[1] for e in reads),
        "read_ms": round(sum(e[2] for e in reads), 1),
        "split": len(exchanges) == sum(report.exchanges for report, _f in sessions),
        "sessions": len(sessions),
        "exchanges": sum(report.exchanges for report, _f in sessions),
        "qbxml_requests": sum(counts),
        "max_requests_per_exchange": max(counts, default=0),
        "request_types": dict(sum((report.requests for report, _f in sessions), Counter())),
        "soap_calls": len(rows),
        "non_200": sum(1 for row in rows if row[0] != 200),
        "wall_s": round(sum(f["wall_s"] for _r, f in sessions), 2),
        "server_cpu_s": round(sum(f["server_cpu_s"] for _r, f in sessions), 3),
        "client_cpu_s": round(sum(f["client_cpu_s"] for _r, f in sessions), 3),
        "queries": sum(row[1] for row in rows),
        "sql_ms": round(sum(row[2] for row in rows), 1),
        "odoo_ms": round(sum(row[3] for row in rows), 1),
        "ok": all(report.ok for report, _f in sessions),
        "problems": [report.describe() for report, _f in sessions if not report.ok][:3],
        "rows": rows,
    }


def exchange_profile(sessions):
    """Odoo's queries and ms per exchange that sends (a sendRequestXML and its
    receiveResponseXML) over the first and the last tenth of them."""
    pairs = [e[1:] for report, figures in sessions for e in exchange_rows(report, figures)
             if not e[0]]
    if not pairs:
        return {}
    tenth = max(len(pairs) // 10, 1)
    return {"queries_first": round(statistics.fmean(p[0] for p in pairs[:tenth]), 1),
            "queries_last": round(statistics.fmean(p[0] for p in pairs[-tenth:]), 1),
            "ms_first": round(statistics.fmean(p[1] for p in pairs[:tenth]), 1),
            "ms_last": round(statistics.fmean(p[1] for p in pairs[-tenth:]), 1)}


def run_case(args, env, server, product, tax, size, batch, first):
    """One connection and company file: the link, then the push of the data set dated
    from ``first`` at ``batch`` requests per exchange."""
    from provider_sandbox.qbd import CompanyFile  # noqa: PLC0415
    from provider_sandbox.qbwc import WebConnector  # noqa: PLC0415
    Binding = env["accounting.sync.binding"]
    connection, password = new_connection(env, product, size, batch)
    company_name = "Bench %s x%s" % (size, batch)
    company_file = CompanyFile(country="US", company_name=company_name)
    connector = WebConnector(connection._qbwc_qwc(), password, company_file,
                             validate=args.validate, timeout=300)
    link_report, link_figures = measured_session(connector, server)
    if not link_report.ok:
        raise SystemExit("the link failed:\n%s" % link_report.describe())
    env.cr.commit()
    env.invalidate_all()
    map_chart(env, connection, product, tax)
    queue_started = time.perf_counter()
    connection.write({"sync_start_date": first, "qbwc_batch_size": batch})
    env.cr.commit()
    queue_s = time.perf_counter() - queue_started
    due = Binding.search_count([("connection_id", "=", connection.id),
                                ("state", "=", "pending")])
    sessions = []
    for _number in range(20):
        report, figures = measured_session(connector, server)
        if report.status == "none":
            break
        sessions.append((report, figures))
        if report.last_error or report.connection_errors:
            break
    else:
        raise SystemExit("the push did not end in 20 sessions")
    env.cr.commit()
    env.invalidate_all()
    states = {}
    for binding in Binding.search_read([("connection_id", "=", connection.id)],
                                       ["state", "remote_type"]):
        key = (binding["remote_type"], binding["state"])
        states[key] = states.get(key, 0) + 1
    synced = sum(n for (_kind, state), n in states.items() if state == "synced")
    push = summarize(sessions)
    link = summarize([(link_report, link_figures)])
    profile = exchange_profile(sessions)
    remote = {kind: len(company_file.records(kind))
              for kind in ("Customer", "ItemService", "Invoice", "ReceivePayment")}
    result = {
        "n": size, "batch": batch, "due": due, "synced": synced,
        "not_synced": {"%s %s" % key: n for key, n in states.items() if key[1] != "synced"},
        "by_kind": {kind: n for (kind, state), n in states.items() if state == "synced"},
        "remote": remote, "queue_s": round(queue_s, 2),
        "link": {k: v for k, v in link.items() if k != "rows"},
        "push": {k: v for k, v in push.items() if k != "rows"}, "profile": profile,
        "records_per_sending_exchange": round(synced / max(
            push["exchanges"] - push["read_exchanges"], 1), 2),
        "records_per_exchange": round(synced / max(push["exchanges"], 1), 2),
        "requests_per_exchange": round(push["qbxml_requests"] / max(push["exchanges"], 1), 2),
        "cpu_ms_per_record": round(push["server_cpu_s"] * 1000 / max(synced, 1), 2),
        "odoo_ms_per_record": round(push["odoo_ms"] / max(synced, 1), 2),
        "sql_per_record": round(push["queries"] / max(synced, 1), 2),
        "client_cpu_ms_per_record": round(push["client_cpu_s"] * 1000 / max(synced, 1), 2),
        "records_per_s": round(synced / max(push["wall_s"], 1e-9), 1),
    }
    print("  n=%s batch=%s: %s" % (size, batch, json.dumps(result)), flush=True)
    return result


def measure(args):
    # Stopped (SIGTERM): the server is stopped too, by the finally below.
    signal.signal(signal.SIGTERM, lambda *_args: sys.exit("stopped"))
    env, cr = sync_bench.odoo_env(args.db)
    env["ir.config_parameter"].set_param("web.base.url", "http://127.0.0.1:%s" % PORT)
    product, tax, partners = master_data(env, max(max(args.sizes) // 10, 1))
    cr.commit()
    cr.execute("SELECT current_setting('server_version')")
    results = {"postgres": cr.fetchone()[0], "runs": []}
    server = start_server(args, port=PORT, log_name="qbd-bench-server.log")
    try:
        first = FIRST_DAY
        for size in args.sizes:
            data_set(env, product, partners, size, first)
            results["runs"].append(run_case(args, env, server, product, tax, size,
                                            args.batch, first))
            if size in args.baseline_sizes:
                results["runs"].append(run_case(args, env, server, product, tax, size, 1,
                                                first))
            first += timedelta(days=size)
    finally:
        stop_server(server)
    cr.commit()
    cr.close()
    print("RESULT " + json.dumps(results), flush=True)


# -- the report -------------------------------------------------------------------------------

def command_line(args):
    parts = ["./scripts/benchmark qbd", "--invoices %s" % args.invoices,
             "--sizes %s" % ",".join(map(str, args.sizes)),
             "--baseline-sizes %s" % ",".join(map(str, args.baseline_sizes))]
    if args.batch != 25:
        parts.append("--batch %s" % args.batch)
    if args.validate:
        parts.append("--validate")
    return " ".join(parts)


def report(results, args, elapsed):
    revision = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT,
                              capture_output=True, text=True).stdout.strip()
    dirty = subprocess.run(["git", "status", "--porcelain", "--", "accounting_sync"],
                           cwd=ROOT, capture_output=True, text=True).stdout.strip()
    runs = results["runs"]
    lines = [
        "# accounting_sync QuickBooks Desktop (Web Connector) benchmark", "",
        "`%s`" % command_line(args), "",
        "%s cores (`nproc`), Python %s, PostgreSQL %s, %s; load average %.2f at the start, "
        "%.2f at the end. Code: %s%s. The whole run took %.1f min (database created and "
        "dropped, data sets made, every run)." % (
            os.cpu_count(), platform.python_version(), results["postgres"],
            platform.platform(terse=True), args.load, os.getloadavg()[0], revision,
            " with uncommitted changes to accounting_sync" if dirty else "", elapsed / 60),
        "",
        "A real Odoo server (threaded, `--max-cron-threads 0`) on port %s, its own database; "
        "the sandbox's Web Connector client (zeep, from Intuit's WSDL) and an in-memory US "
        "company file in the benchmark's process, one fresh company file and connection per "
        "run. qbXML requests %s against qbxmlops130.xsd. n invoices (one line, a service, "
        "8.25 %% sales tax; n/10 customers), each paid by a payment of its own; records = "
        "customers + product + invoices + payments synced. The first session (the link: "
        "lists read) is measured apart; then the push sessions until the Web Connector is "
        "told there is nothing to do (a session ends with the pull of what changed in "
        "QuickBooks: reading exchanges, counted, shown apart). Odoo CPU: the server process's user + system time "
        "(psutil) over the sessions; SQL queries and Odoo's own time: its per-request "
        "counters in its access log; client CPU: the benchmark process (Web Connector "
        "client + company file)." % (
            PORT, "validated" if args.validate else "**not** validated (`validate=False`, "
            "for speed; `--validate` validates)"), "",
        "| metric | %s | target |" % " | ".join(
            "n = %s, %s" % (r["n"], "%s per exchange" % r["batch"] if r["batch"] > 1
                            else "baseline: 1 per exchange") for r in runs),
        "|---|%s---|" % ("---|" * len(runs))]

    def row(label, key, target=None):
        values = [key(r) if callable(key) else r[key] for r in runs]
        lines.append("| %s | %s | %s |" % (label, " | ".join(
            "{:,}".format(v) if isinstance(v, int) else str(v) for v in values),
            target(runs) if target else ""))

    batched = [r for r in runs if r["batch"] > 1]
    row("records synced / queued (customers, product, invoices, payments)",
        lambda r: "{:,} / {:,}".format(r["synced"], r["due"]))
    row("records not synced", lambda r: ", ".join(
        "%s %s" % (k, v) for k, v in r["not_synced"].items()) or "0")
    row("push sessions", lambda r: r["push"]["sessions"])
    row("exchanges for the whole set (of which only reading: the pull after the pushes)",
        lambda r: "%s (%s)" % (r["push"]["exchanges"], r["push"]["read_exchanges"]
                               if r["push"]["split"] else "?"))
    row("qbXML request types", lambda r: ", ".join(
        "%s %s" % (k.replace("Rq", ""), v) for k, v in sorted(
            r["push"]["request_types"].items(), key=lambda item: -item[1])))
    row("qbXML requests (mean / most per exchange)", lambda r: "{:,} ({} / {})".format(
        r["push"]["qbxml_requests"], r["requests_per_exchange"],
        r["push"]["max_requests_per_exchange"]))
    row("records per SOAP exchange", "records_per_exchange", lambda rs: mark(all(
        r["records_per_exchange"] >= RECORDS_PER_EXCHANGE_TARGET for r in batched),
        "≥ %s (batched)" % RECORDS_PER_EXCHANGE_TARGET))
    row("records per exchange that sends", "records_per_sending_exchange")
    row("SOAP calls (non-200 answers)", lambda r: "{:,} ({})".format(
        r["push"]["soap_calls"], r["push"]["non_200"]))
    row("wall time of the push, s (records per s)", lambda r: "%s (%s)" % (
        r["push"]["wall_s"], r["records_per_s"]))
    row("Odoo CPU ms per record (server process)", "cpu_ms_per_record", lambda rs: mark(all(
        r["cpu_ms_per_record"] <= CPU_MS_TARGET for r in batched),
        "≤ %s (batched)" % CPU_MS_TARGET))
    row("SQL queries per record", "sql_per_record", lambda rs: mark(all(
        r["sql_per_record"] <= SQL_TARGET for r in batched), "≤ %s (batched)" % SQL_TARGET))
    row("Odoo's own time per record, ms (access log: SQL + Python)", "odoo_ms_per_record")
    row("SQL queries / Odoo CPU s / Odoo's logged s, the whole push",
        lambda r: "{:,} / {} / {}".format(r["push"]["queries"], r["push"]["server_cpu_s"],
                                          round(r["push"]["odoo_ms"] / 1000, 2)))
    row("of which the reading exchanges (the pull): SQL queries / Odoo's logged s",
        lambda r: "{:,} / {}".format(r["push"]["read_queries"],
                                     round(r["push"]["read_ms"] / 1000, 2)))
    row("per exchange that sends, first → last tenth: SQL queries; Odoo ms",
        lambda r: "%s → %s; %s → %s" % (r["profile"].get("queries_first"),
                                         r["profile"].get("queries_last"),
                                         r["profile"].get("ms_first"),
                                         r["profile"].get("ms_last")))
    row("client + company file CPU ms per record (benchmark process)",
        "client_cpu_ms_per_record")
    row("queueing the data set (start date set), s", "queue_s")
    row("link session: exchanges / SOAP calls / SQL queries / Odoo CPU s / wall s",
        lambda r: "%s / %s / %s / %s / %s" % (
            r["link"]["exchanges"], r["link"]["soap_calls"], r["link"]["queries"],
            r["link"]["server_cpu_s"], r["link"]["wall_s"]))
    row("in the company file: customers / items / invoices / payments", lambda r: "%s / %s / "
        "%s / %s" % tuple(r["remote"][k] for k in ("Customer", "ItemService", "Invoice",
                                                    "ReceivePayment")))
    lines.append("")
    growth = [r for r in batched]
    if len(growth) >= 2:
        small, large = growth[0], growth[-1]
        lines.append(
            "Growth, batched, n = %s → %s (%.1f× the records): Odoo CPU ms per record %.2f×, "
            "SQL queries per record %.2f×, exchanges %.2f×." % (
                small["n"], large["n"], large["synced"] / small["synced"],
                large["cpu_ms_per_record"] / small["cpu_ms_per_record"],
                large["sql_per_record"] / small["sql_per_record"],
                large["push"]["exchanges"] / small["push"]["exchanges"]))
    for base in (r for r in runs if r["batch"] == 1):
        twin = next((r for r in batched if r["n"] == base["n"]), None)
        if twin:
            lines.append(
                "Baseline at n = %s: %.1f× the exchanges, %.2f× the Odoo CPU per record, "
                "%.2f× the SQL queries per record, %.2f× the wall time of the batched push." % (
                    base["n"], base["push"]["exchanges"] / twin["push"]["exchanges"],
                    base["cpu_ms_per_record"] / twin["cpu_ms_per_record"],
                    base["sql_per_record"] / twin["sql_per_record"],
                    base["push"]["wall_s"] / twin["push"]["wall_s"]))
    problems = [p for r in runs for p in r["push"]["problems"]]
    if problems:
        lines += ["", "Sessions that did not end cleanly:", ""] + [
            "    " + p.replace("\n", "\n    ") for p in problems]
    text = "\n".join(lines)
    print(text)
    with open(os.path.join(ROOT, "benchmarks", "last-qbd-results.md"), "w") as out:
        out.write(text + "\n")


# -- main -------------------------------------------------------------------------------------

def port_in_use(port):
    import socket  # noqa: PLC0415
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) == 0


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--invoices", type=int, default=2000,
                        help="invoices of the headline run (added to --sizes)")
    parser.add_argument("--sizes", default="500,2000",
                        help="invoices (each with its payment) of each run, multiples of 50")
    parser.add_argument("--baseline-sizes", default=None,
                        help="sizes also run at one request per exchange (default: the "
                             "smallest; at 2,000 invoices the baseline adds about 9 minutes)")
    parser.add_argument("--batch", type=int, default=25,
                        help="the connection's Requests per Exchange for the batched runs")
    parser.add_argument("--validate", action="store_true",
                        help="validate every qbXML request against qbxmlops130.xsd (slower)")
    parser.add_argument("--db", default=DB, help=argparse.SUPPRESS)
    parser.add_argument("--keep-db", action="store_true",
                        help="keep the database at the end, to look at (the next run drops "
                             "it first)")
    parser.add_argument("--phase", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--load", type=float, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    args.sizes = sorted({int(n) for n in args.sizes.split(",") if n} | {args.invoices})
    args.baseline_sizes = sorted({int(n) for n in args.baseline_sizes.split(",") if n}) \
        if args.baseline_sizes is not None else args.sizes[:1]
    if not args.db.startswith("bench_qbd_"):
        raise SystemExit("use a database of its own (bench_qbd_...)")
    if args.phase:
        return measure(args)
    started = time.perf_counter()
    os.makedirs(os.path.join(ROOT, ".run"), exist_ok=True)
    if port_in_use(PORT):
        raise SystemExit("port %s is in use" % PORT)
    args.load = os.getloadavg()[0]
    if database_exists(args.db):
        drop_database(args.db)
    try:
        sync_bench.ensure_database(args.db)
        command = [sys.executable, os.path.abspath(__file__), "--phase", "--db", args.db,
                   "--invoices", str(args.invoices),
                   "--sizes", ",".join(map(str, args.sizes)),
                   "--baseline-sizes", ",".join(map(str, args.baseline_sizes)),
                   "--batch", str(args.batch)]
        if args.validate:
            command.append("--validate")
        result = None
        with subprocess.Popen(command, stdout=subprocess.PIPE, text=True,
                              env=child_env()) as phase:
            for line in phase.stdout:  # its progress as it goes
                if line.startswith("RESULT "):
                    result = json.loads(line[len("RESULT "):])
                else:
                    print(line, end="", flush=True)
        if result is None or phase.returncode:
            raise SystemExit("the measurement failed")
        report(result, args, time.perf_counter() - started)
    finally:
        if not args.keep_db:
            drop_database(args.db)
    return None


if __name__ == "__main__":
    main()
