"""Start moto in server mode on loopback with sra's extension applied.

    python -m sra_emulator --port 5000 [--create-account-delay SECONDS]
"""
import argparse
import os
import html
import io
import json
import re
import signal
import sys
import traceback
from urllib.parse import parse_qs

from werkzeug.serving import run_simple

from . import accessanalyzer, account, awsconfig, baselines, cloudtrail, config, detective, guardduty, inspector2, macie2, organizations, s3, securityhub, securityhub_findings, seed, sts


# Services whose errors are JSON (awsJson and restJson protocols).
JSON_SERVICES = {
    "access-analyzer", "cloudtrail", "config", "detective", "guardduty", "inspector2",
    "kms", "macie2", "organizations", "securityhub",
}


def _is_json_protocol(environ):
    if environ.get("HTTP_X_AMZ_TARGET"):
        return True
    scope = re.search(r"Credential=[^/]+/[^/]+/[^/]+/([^/]+)/", environ.get("HTTP_AUTHORIZATION", ""))
    return bool(scope) and scope.group(1) in JSON_SERVICES


def _is_read(environ, body):
    """Whether the request only reads: safe for the emulator to try again."""
    if environ.get("REQUEST_METHOD") in ("GET", "HEAD"):
        return True
    op = environ.get("HTTP_X_AMZ_TARGET", "").rsplit(".", 1)[-1]
    if not op:
        form = parse_qs(environ.get("QUERY_STRING", "")) or parse_qs(body.decode("utf-8", "replace"))
        op = (form.get("Action") or [""])[0]
    return op.startswith(("Get", "List", "Describe", "Head"))


def _operation(environ):
    """The AWS operation a request names, for error messages."""
    target = environ.get("HTTP_X_AMZ_TARGET")
    if target:
        return target
    query = parse_qs(environ.get("QUERY_STRING", ""))
    if "Action" in query:
        return query["Action"][0]
    return f"{environ.get('REQUEST_METHOD')} {environ.get('PATH_INFO')}"


class Extension:
    """WSGI middleware in front of moto.

    - /sra-emulator/config: GET shows, POST changes the emulator's settings.
    - /sra-emulator/seed: POST adds many accounts in the SRA state (seed.py), for
      benchmarks.
    - moto answers an operation it does not implement (and any crash of its own)
      with HTTP 500, which AWS SDKs retry as a transient error: a test then waits
      through every retry. Such answers become HTTP 501 NotImplemented, which SDKs
      do not retry, naming the operation, so a missing operation fails fast. A
      read (Get/List/Describe/Head, or an HTTP GET or HEAD) is first tried three
      times: moto crashes now and then when a read races another thread's first
      use of a backend.
    """

    def __init__(self, app):
        self.app = app

    def __call__(self, environ, start_response):
        if environ.get("PATH_INFO", "").startswith("/sra-emulator/"):
            return self.control(environ, start_response)
        if accessanalyzer.handles(environ):
            return accessanalyzer.handle(environ, start_response)
        if detective.handles(environ):
            return detective.handle(environ, start_response)
        length = int(environ.get("CONTENT_LENGTH") or 0)
        request_body = environ["wsgi.input"].read(length) if length else b""
        # moto crashes now and then on a read when a request races another
        # thread's first use of a backend (seen on the first calls to a fresh
        # server); a read is safe to answer again, so it gets two more tries.
        tries = 3 if _is_read(environ, request_body) else 1
        for attempt in range(tries):
            environ["wsgi.input"] = io.BytesIO(request_body)
            held = {}

            def hold(status, headers, exc_info=None, held=held):
                held["status"] = status
                if status.startswith("500") or (status.startswith(("401", "403")) and _is_json_protocol(environ)):
                    return lambda data: None
                return start_response(status, headers, exc_info)

            try:
                body = self.app(environ, hold)
            except Exception:  # moto crashed before answering
                traceback.print_exc()
                held["status"] = "500"
                body = []
            if not held.get("status", "").startswith("500") or attempt == tries - 1:
                break
            if hasattr(body, "close"):
                body.close()
        if held.get("status", "").startswith(("401", "403")) and _is_json_protocol(environ):
            return self.json_error(environ, held, body, start_response)
        if not held.get("status", "").startswith("500"):
            return body
        detail = b"".join(body).decode("utf-8", "replace")[-2000:]
        if hasattr(body, "close"):
            body.close()
        op = _operation(environ)
        status, code = "501 Not Implemented", "NotImplemented"
        if "NotImplementedError" in detail or "has not been implemented" in detail:
            message = f"the emulator does not implement {op}"
        else:
            message = f"the emulator failed on {op} (moto answered HTTP 500; see its log)"
        print(f"sra-emulator: {message}\n{detail}", file=sys.stderr, flush=True)
        if environ.get("HTTP_X_AMZ_TARGET") or "json" in environ.get("CONTENT_TYPE", ""):
            payload = json.dumps({"__type": code, "message": message}).encode()
            ctype = "application/x-amz-json-1.1"
        else:
            payload = (
                f"<ErrorResponse><Error><Type>Receiver</Type><Code>{code}</Code>"
                f"<Message>{message}</Message></Error></ErrorResponse>"
            ).encode()
            ctype = "text/xml"
        start_response(status, [("Content-Type", ctype), ("Content-Length", str(len(payload))), ("x-amzn-ErrorType", code)])
        return [payload]

    def json_error(self, environ, held, body, start_response):
        """moto's IAM enforcement answers every protocol with an XML error; AWS's
        JSON-protocol services answer JSON, and SDKs cannot read the XML there."""
        raw = b"".join(body)
        if hasattr(body, "close"):
            body.close()
        if raw.lstrip().startswith(b"{"):  # already a JSON error: pass it on
            start_response(held["status"], [("Content-Type", "application/json"), ("Content-Length", str(len(raw)))])
            return [raw]
        text = raw.decode("utf-8", "replace")
        code = re.search(r"<Code>(.*?)</Code>", text)
        message = re.search(r"<Message>(.*?)</Message>", text, re.S)
        payload = json.dumps({
            "__type": code.group(1) if code else "AccessDeniedException",
            "message": html.unescape(message.group(1)) if message else text,
        }).encode()
        start_response(held["status"], [
            ("Content-Type", "application/x-amz-json-1.1"),
            ("Content-Length", str(len(payload))),
            ("x-amzn-ErrorType", code.group(1) if code else "AccessDeniedException"),
        ])
        return [payload]

    def control(self, environ, start_response):
        path = environ.get("PATH_INFO")
        status, out = "200 OK", None
        if path == "/sra-emulator/config":
            if environ.get("REQUEST_METHOD") == "POST":
                length = int(environ.get("CONTENT_LENGTH") or 0)
                try:
                    out = config.update(json.loads(environ["wsgi.input"].read(length) or b"{}"))
                except (KeyError, ValueError, TypeError) as err:
                    status, out = "400 Bad Request", {"error": f"bad setting: {err}"}
            else:
                out = config.snapshot()
        elif path == "/sra-emulator/seed" and environ.get("REQUEST_METHOD") == "POST":
            length = int(environ.get("CONTENT_LENGTH") or 0)
            try:
                out = seed.seed(json.loads(environ["wsgi.input"].read(length) or b"{}"))
            except (KeyError, ValueError, TypeError) as err:
                status, out = "400 Bad Request", {"error": f"bad seed request: {err}"}
        elif path == "/sra-emulator/health":
            # The process id: a test harness that picked a free port checks that
            # the emulator answering is the one it started, not another test's
            # that took the same port in between.
            out = {"ok": True, "pid": os.getpid()}
        else:
            status, out = "404 Not Found", {"error": f"no such endpoint {path}"}
        payload = json.dumps(out).encode()
        start_response(status, [("Content-Type", "application/json"), ("Content-Length", str(len(payload)))])
        return [payload]


def _constant_time_backends():
    """moto 5.2.5 looks an account's backends up by building the list of every
    account it has (`account_id not in list(self.keys())`) on each access: at
    5,000 accounts every lookup costs 5,000 steps, and the benchmark's requests
    took seconds each. An account already there is found directly now; a new one
    is created as before. Speed only: what is created, and when, is unchanged."""
    from moto.core.base_backend import BackendDict

    original = BackendDict.__getitem__

    def getitem(self, account_id):
        try:
            return dict.__getitem__(self, account_id)
        except KeyError:
            return original(self, account_id)

    BackendDict.__getitem__ = getitem


def main(argv=None):
    parser = argparse.ArgumentParser(prog="tests/emulator/serve")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--create-account-delay", type=float, default=0.0,
                        help="seconds a CreateAccount request stays IN_PROGRESS")
    args = parser.parse_args(argv)
    config.update({"create_account_delay_seconds": args.create_account_delay})

    _constant_time_backends()
    organizations.apply()
    account.apply()
    baselines.apply()
    sts.apply()
    awsconfig.apply()
    s3.apply()
    guardduty.apply()
    cloudtrail.apply()
    securityhub.apply()
    securityhub_findings.apply()
    inspector2.apply()
    macie2.apply()

    from moto.moto_server.werkzeug_app import (
        DomainDispatcherApplication,
        MotoRequestHandler,
        create_backend_app,
    )

    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    signal.signal(signal.SIGINT, lambda *_: sys.exit(0))
    app = Extension(DomainDispatcherApplication(create_backend_app))
    print(f"sra-emulator: listening on http://{args.host}:{args.port}", file=sys.stderr, flush=True)
    run_simple(args.host, args.port, app, threaded=True, request_handler=MotoRequestHandler)


if __name__ == "__main__":
    main()
