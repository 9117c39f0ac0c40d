"""Benchmark of the change queue: what a scheduled sync costs when nothing changed, and
after k edits, at two history sizes; then 200 connections in one database served by Odoo's
own cron workers. Prints figures (and writes benchmarks/last-queue-results.md); it is not a
test.

    ./scripts/benchmark queue [--sizes 250,2500] [--edits 1,10,100] [--connections 200]
        [--active-edits 10] [--db accounting_sync_bench]

History: the last ``size`` invoices of the data set (each with its payment; with their
customers and product about 2.05 records per invoice) are synced completely to the sandbox
(QuickBooks Online, rate limits off); then the connection's own scheduled job
(``_cron_sync``) is called as Odoo's cron calls it: idle 21 times (median), then after k
invoices were edited (their reference, a field that is sent). Odoo time is this process's
wall time around the call, queries Odoo's own SQL counter.

Firm scale: ``--connections`` connections in the same database, each of its own Odoo
company (tenants with 500 synced records each, none due), plus three connected to the
sandbox's companies with the data set synced (QuickBooks Online twice, Xero once). A real
Odoo server is started on the database with ``--max-cron-threads`` 1, then 2; each round
makes every connection's job due at once and wakes the cron workers, and ends when every
job has run. The first round has nothing to send; in the second, ``--active-edits``
invoices were edited, which the three connected to the sandbox send.
"""
import argparse
import json
import os
import signal
import statistics
import subprocess
import sys
import time
from datetime import timedelta

import requests

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import sync_bench  # noqa: E402 - the data set and connections are the push benchmark's
from sync_bench import ROOT, day, free_port  # noqa: E402

QBO_REALM_2 = "9341453050000002"
XERO_ORG = sync_bench.REMOTE["xero"]["company"]
IDLE_SYNCED = 500  # synced records of each idle tenant


def sql_counter():
    import odoo.sql_db  # noqa: PLC0415
    return odoo.sql_db.sql_counter


def sync_completely(connection):
    """What the connection's job does until nothing is due: runs, each resumed."""
    for _round in range(10000):
        run = connection._sync(trigger="schedule", commit=True)
        if run.state != "paused":
            return run
    raise SystemExit("the sync did not end")


def cron_call(env, connection):
    """One call of the connection's scheduled job, due now: (queries, wall ms, the run it
    made, CPU ms of this process — Odoo's own time, without the provider's)."""
    Run = env["accounting.sync.run"]
    before_run = Run.search([("connection_id", "=", connection.id)], order="id desc", limit=1)
    connection.next_sync_at = False
    env.cr.commit()
    env.invalidate_all()
    queries, start, cpu = sql_counter(), time.perf_counter(), time.process_time()
    env["accounting.sync.connection"]._cron_sync(connection.id)
    elapsed = (time.perf_counter() - start) * 1000
    cpu = (time.process_time() - cpu) * 1000
    queries = sql_counter() - queries
    run = Run.search([("connection_id", "=", connection.id)], order="id desc", limit=1)
    return queries, elapsed, (run if run != before_run else Run), cpu


def api_calls(sandbox):
    return sync_bench.api_calls(sandbox, "qbo")


def history(args, env, size):
    """Sync the last ``size`` invoices completely; the idle job and the job after k edits."""
    requests.post(args.sandbox + "/_sandbox/reset", timeout=10)
    connection = sync_bench.connect(env, "quickbooks_online", args.sandbox,
                                    day(args.total - size))
    env.cr.commit()
    sync_completely(connection)
    Binding = env["accounting.sync.binding"]
    synced = Binding.search_count([("connection_id", "=", connection.id),
                                   ("state", "=", "synced")])
    cron_call(env, connection)  # warm: the registry's caches, the connection's rows
    idle = [cron_call(env, connection) for _i in range(21)]
    result = {"size": size, "synced": synced,
              "idle_queries": statistics.median(call[0] for call in idle),
              "idle_ms": round(statistics.median(call[1] for call in idle), 1),
              "idle_cpu_ms": round(statistics.median(call[3] for call in idle), 1), "edits": []}
    moves = env["account.move"].search([("ref", "=like", "bench%"), ("state", "=", "posted"),
                                        ("move_type", "=", "out_invoice"),
                                        ("date", ">=", connection.sync_start_date)],
                                       order="id desc")
    for k in args.edits:
        for move in moves[:k]:
            move.ref = "bench edit %s" % time.time_ns()
        env.cr.commit()
        calls = api_calls(args.sandbox)
        queries, ms, run, cpu = cron_call(env, connection)
        result["edits"].append({
            "k": k, "queries": queries, "ms": round(ms, 1), "cpu_ms": round(cpu, 1),
            "sent": (run.created + run.updated + run.linked) if run else 0, "api_calls": api_calls(args.sandbox) - calls})
    return connection, result


def tenants(args, env, sample):
    """``args.connections`` idle connections, each of its own company, with synced records
    and nothing due (their tokens are the sample connection's: an idle job calls no one)."""
    Company = env["res.company"].sudo()
    Connection = env["accounting.sync.connection"].sudo().with_context(active_test=False)
    Connection.search([("name", "=like", "Tenant %")]).unlink()
    companies = Company.search([("name", "=like", "Bench tenant %")], order="name")
    if len(companies) < args.connections:
        companies |= Company.create([{"name": "Bench tenant %03d" % i, "currency_id":
                                      env.company.currency_id.id}
                                     for i in range(len(companies), args.connections)])
    connections = Connection.create([{
        "name": "Tenant %03d" % i, "provider": "quickbooks_online", "environment": "local",
        "local_url": args.sandbox, "sync_start_date": sample.sync_start_date,
        "company_id": company.id} for i, company in enumerate(companies[:args.connections])])
    connections.write({"state": "connected", "remote_company_id": sample.remote_company_id,
                       "remote_company_name": "Tenant", "access_token": sample.access_token,
                       "refresh_token": sample.refresh_token,
                       "access_token_expires_at": sample.access_token_expires_at,
                       "refresh_token_expires_at": sample.refresh_token_expires_at})
    env.flush_all()
    env.cr.execute("""
        INSERT INTO accounting_sync_binding
                    (connection_id, company_id, res_model, res_id, record_name, remote_type,
                     remote_id, state, last_synced_at, attempts, key_generation)
             SELECT c.id, c.company_id, 'account.move', 1000000 + n, 'INV ' || n, 'invoice',
                    c.id || '-' || n, 'synced', now() at time zone 'UTC', 0, 0
               FROM accounting_sync_connection c, generate_series(1, %s) n
              WHERE c.id = ANY(%s)
    """, (IDLE_SYNCED, connections.ids))
    env.cr.commit()
    return connections


def cron_rounds(args, env, active):
    """Rounds of Odoo's own cron workers over every connection, with 1 and 2 threads."""
    results = []
    crons = env["accounting.sync.connection"].sudo().with_context(
        active_test=False).search([]).cron_id
    moves = env["account.move"].search([("ref", "=like", "bench%"), ("state", "=", "posted"),
                                        ("move_type", "=", "out_invoice"),
                                        ("date", ">=", max(active.mapped("sync_start_date")))],
                                       order="id desc")
    for threads in (1, 2):
        env.cr.execute("UPDATE ir_cron SET nextcall = now() at time zone 'UTC' "
                       "+ interval '1 day'")
        env.cr.commit()
        port = free_port()
        log = open(os.path.join(ROOT, ".run", "queue-bench-cron%d.log" % threads), "w")
        server = subprocess.Popen(
            [sys.executable, "-m", "odoo", "-d", args.db, "--db-filter", "^%s$" % args.db,
             "--addons-path", sync_bench.addons_path(), "--http-port", str(port),
             "--max-cron-threads", str(threads), "--log-level", "warn", "--workers", "0"],
            stdout=log, stderr=subprocess.STDOUT, cwd=ROOT,
            env=dict(os.environ, PYTHONPATH=ROOT + os.pathsep + os.environ.get(
                "PYTHONPATH", "")))
        try:
            wait_for(lambda p=port: requests.get(
                "http://127.0.0.1:%s/web/login" % p, timeout=2).ok, 120)
            time.sleep(2)  # the cron threads are listening
            for label, edits in (("idle", 0), ("with changes", args.active_edits)):
                for move in moves[:edits]:
                    move.ref = "bench edit %s" % time.time_ns()
                calls = sum(sync_bench.api_calls(args.sandbox, code) for code in ("qbo", "xero"))
                elapsed = one_round(env, crons, args.db)
                calls = sum(sync_bench.api_calls(args.sandbox, code)
                            for code in ("qbo", "xero")) - calls
                due = env["accounting.sync.binding"].search_count([
                    ("state", "in", ("pending", "to_void"))])
                results.append({"threads": threads, "round": label, "edits": edits,
                                "connections": len(crons), "seconds": round(elapsed, 2),
                                "ms_per_connection": round(elapsed * 1000 / len(crons), 1),
                                "api_calls": calls, "left_due": due})
        finally:
            server.send_signal(signal.SIGINT)
            server.wait(30)
            log.close()
    return results


def one_round(env, crons, db):
    """Every connection's job due now; the workers woken; seconds until all have run."""
    env.cr.execute("UPDATE accounting_sync_connection SET next_sync_at = NULL")
    env.cr.execute("UPDATE ir_cron SET nextcall = now() at time zone 'UTC' "
                   "WHERE id = ANY(%s)", (crons.ids,))
    env.cr.commit()
    start = time.perf_counter()
    env.cr.execute("SELECT now() at time zone 'UTC'")
    [t0] = env.cr.fetchone()
    wake_cron_workers(db)

    def finished():
        env.cr.execute("""
            SELECT count(*) FROM ir_cron WHERE id = ANY(%s) AND nextcall <= %s
        """, (crons.ids, t0 + timedelta(seconds=1)))
        waiting = env.cr.fetchone()[0]
        env.cr.execute("SELECT count(*) FROM accounting_sync_run "
                       "WHERE state IN ('running', 'paused')")
        running = env.cr.fetchone()[0]
        env.cr.commit()
        return not waiting and not running
    wait_for(finished, 600, pause=0.02)
    return time.perf_counter() - start


def wake_cron_workers(db):
    """What ``ir.cron._trigger`` does: the workers listen on the ``postgres`` database."""
    import odoo.sql_db  # noqa: PLC0415
    with odoo.sql_db.db_connect("postgres").cursor() as cr:
        cr.execute("NOTIFY cron_trigger, %s", (db,))


def start_sandbox(port):
    """The provider sandbox in a process of its own on ``port``, answering: (process, url)."""
    process = subprocess.Popen([sys.executable, "-m", "provider_sandbox", "--port", str(port)],
                               cwd=ROOT)
    url = "http://127.0.0.1:%s" % port
    try:
        wait_for(lambda: requests.get(url + "/", timeout=1).ok, 10, pause=0.1)
    except BaseException:
        process.terminate()
        raise
    return process, url


def wait_for(condition, seconds, pause=0.2):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if condition():
                return
        except requests.RequestException:
            pass
        time.sleep(pause)
    raise SystemExit("timed out waiting")


def measure(args):
    env, cr = sync_bench.odoo_env(args.db)
    env["ir.config_parameter"].set_param("accounting_sync.local_time_scale", "1000")
    sync_bench.generate(env, cr, args.total)
    results = {"history": []}
    for size in args.sizes:
        connection, result = history(args, env, size)
        results["history"].append(result)
        print("  history %s: %s" % (size, json.dumps(result)), flush=True)
    # Firm scale: three connections with the smallest data set synced, the tenants idle.
    requests.post(args.sandbox + "/_sandbox/reset", timeout=10)
    start = day(args.total - min(args.sizes))
    active = sync_bench.connect(env, "quickbooks_online", args.sandbox, start)
    active |= sync_bench.connect(env, "quickbooks_online", args.sandbox, start,
                                 remote_company=QBO_REALM_2, replace=False)
    active |= sync_bench.connect(env, "xero", args.sandbox, start)
    env.cr.commit()
    for connection in active:
        sync_completely(connection)
    tenants(args, env, active[0])
    results["cron"] = cron_rounds(args, env, active)
    cr.close()
    print("RESULT " + json.dumps(results), flush=True)


def report(results, args):
    lines = ["# accounting_sync change-queue benchmark", "",
             "`./scripts/benchmark queue --sizes %s --edits %s --connections %s "
             "--active-edits %s`" % (",".join(map(str, args.sizes)),
                                     ",".join(map(str, args.edits)), args.connections,
                                     args.active_edits), "",
             "## A scheduled sync at two history sizes (QuickBooks Online)", "",
             "| synced records | idle: queries | idle: ms (Odoo CPU ms) | "
             + " | ".join("%s edits: queries / ms (CPU) / sent / API calls" % k
                          for k in args.edits)
             + " |", "|---|---|---|" + "---|" * len(args.edits)]
    for row in results["history"]:
        lines.append("| %s | %s | %s (%s) | %s |" % (
            row["synced"], row["idle_queries"], row["idle_ms"], row["idle_cpu_ms"], " | ".join(
                "%(queries)s / %(ms)s (%(cpu_ms)s) / %(sent)s / %(api_calls)s" % e
                for e in row["edits"])))
    small, large = results["history"][0], results["history"][-1]
    lines += ["", "Idle growth for %.1f× the history: queries %.2f×, time %.2f× "
              "(targets: ≤ 15 queries, ≤ 50 ms, ≤ 1.2×)." % (
                  large["synced"] / small["synced"],
                  large["idle_queries"] / small["idle_queries"],
                  large["idle_ms"] / small["idle_ms"]), ""]
    cron = results["cron"]
    lines += ["## %s connections served by Odoo's cron workers" % cron[0]["connections"], "",
              "Three connected to the sandbox with %s synced records each, the others idle "
              "tenants with %s synced records each; every job due at once." % (
                  small["synced"], IDLE_SYNCED), "",
              "| cron threads | round | total s | ms per connection | API calls | "
              "left due |", "|---|---|---|---|---|---|"]
    for row in cron:
        lines.append("| %(threads)s | %(round)s (%(edits)s edits) | %(seconds)s | "
                     "%(ms_per_connection)s | %(api_calls)s | %(left_due)s |" % row)
    by = {(r["threads"], r["round"]): r["seconds"] for r in cron}
    lines += ["", "Speed-up from the second cron thread: idle round %.2f×, round with "
              "changes %.2f×." % (by[(1, "idle")] / by[(2, "idle")],
                                  by[(1, "with changes")] / by[(2, "with changes")])]
    text = "\n".join(lines)
    print(text)
    with open(os.path.join(ROOT, "benchmarks", "last-queue-results.md"), "w") as out:
        out.write(text + "\n")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="250,2500",
                        help="invoices synced (with their payments), multiples of 50")
    parser.add_argument("--edits", default="1,10,100")
    parser.add_argument("--connections", type=int, default=200,
                        help="idle tenant connections beside the three that sync")
    parser.add_argument("--active-edits", type=int, default=10)
    parser.add_argument("--db", default="accounting_sync_bench")
    parser.add_argument("--phase", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--sandbox", help=argparse.SUPPRESS)
    args = parser.parse_args()
    args.sizes = sorted(int(s) for s in args.sizes.split(","))
    args.edits = [int(k) for k in args.edits.split(",")]
    args.total = max(args.sizes)
    os.makedirs(os.path.join(ROOT, ".run"), exist_ok=True)
    if args.phase:
        return measure(args)
    sync_bench.ensure_database(args.db)
    sandbox, args.sandbox = start_sandbox(free_port())
    try:
        command = [sys.executable, os.path.abspath(__file__), "--phase", "--db", args.db,
                   "--sandbox", args.sandbox, "--sizes", ",".join(map(str, args.sizes)),
                   "--edits", ",".join(map(str, args.edits)),
                   "--connections", str(args.connections),
                   "--active-edits", str(args.active_edits)]
        output = subprocess.run(command, stdout=subprocess.PIPE, text=True, env=dict(
            os.environ, PYTHONPATH=ROOT + os.pathsep + os.environ.get("PYTHONPATH", "")))
        for line in output.stdout.splitlines():
            if line.startswith("RESULT "):
                report(json.loads(line[len("RESULT "):]), args)
                return None
            print(line)
        raise SystemExit("the measurement failed")
    finally:
        sandbox.terminate()


if __name__ == "__main__":
    main()
