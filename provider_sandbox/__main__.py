"""python3 -m provider_sandbox [--host H] [--port P] [--auto-approve LOGIN] [--rate-limits]
[--time-scale F] [--verbose] ..."""
import argparse
import threading

from . import Sandbox
from .core import DEFAULT_CONFIG

# CLI option -> setting
TTL_OPTIONS = {
    "--access-ttl-qbo": "qbo_access_ttl",
    "--refresh-ttl-qbo": "qbo_refresh_ttl",
    "--stale-window-qbo": "qbo_stale_window",
    "--access-ttl-xero": "xero_access_ttl",
    "--refresh-ttl-xero": "xero_refresh_ttl",
    "--refresh-grace-xero": "xero_refresh_grace",
}


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog="python3 -m provider_sandbox",
        description="Local QuickBooks Online and Xero OAuth/API sandbox. Open the printed URL "
                    "for the endpoints, companies and logins.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8077, help="0 = any free port")
    parser.add_argument("--auto-approve", metavar="LOGIN",
                        help="skip the consent page: approve as LOGIN for each provider's "
                             "first company")
    for option, setting in TTL_OPTIONS.items():
        parser.add_argument(option, dest=setting, type=int, metavar="SECONDS",
                            help="default %s" % DEFAULT_CONFIG[setting])
    parser.add_argument("--rate-limits", action="store_true",
                        help="enforce the providers' published rate limits (429 when reached)")
    parser.add_argument("--time-scale", type=float, metavar="FACTOR",
                        help="rate-limit windows last 1/FACTOR of their real length (default 1)")
    parser.add_argument("--verbose", action="store_true", help="log every request to stderr")
    args = parser.parse_args(argv)

    sandbox = Sandbox(host=args.host, port=args.port, verbose=args.verbose)
    settings = {s: getattr(args, s) for s in TTL_OPTIONS.values() if getattr(args, s) is not None}
    if args.auto_approve:
        settings["auto_approve"] = {"login": args.auto_approve}
    if args.rate_limits:
        settings["rate_limits"] = True
    if args.time_scale is not None:
        settings["time_scale"] = args.time_scale
    try:
        sandbox.configure(**settings)
    except ValueError as e:
        parser.error(str(e))
    sandbox.start()
    print("Provider sandbox on %s (Ctrl-C to stop)" % sandbox.url, flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        sandbox.stop()


if __name__ == "__main__":
    main()
