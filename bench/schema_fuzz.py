#!/usr/bin/env python
"""The long schemathesis run: the whole API against its OpenAPI schema, all checks, many cases, as a storefront
developer would try it, without credentials, with an integration's API key, and as a signed-in staff user.

    python bench/schema_fuzz.py                      # 300 cases per operation and identity, ~5 min on 2 cores
    python bench/schema_fuzz.py --max-examples 2000 --workers 4

`make test` runs a bounded version in-process (tests/recommender/api/test_schema_conformance.py, 50 cases per
operation, deterministic); this one runs the schemathesis CLI over HTTP against a real gunicorn, with random
seeds (printed, so a failure can be replayed with --seed), and reports the totals.

What it does, bounded in count and time, talking only to the local server it starts:
1. starts the embedded PostgreSQL+pgvector and Redis (`config.embedded`) and creates a scratch database (dropped at
   the end) and its own Redis databases, migrates, loads the demo shop without training, creates a staff user and
   an API key with every scope;
2. starts gunicorn (config/gunicorn.py) on a free port, with the test settings' rate limits (the fuzzer is one
   client sending thousands of requests a minute; the limits have their own tests);
3. runs `schemathesis run /api/schema/` with every check once per identity. Four documented exceptions are
   excluded, the first three as in the bounded test: a batch of events with a schema-violating *item* is by
   design a 200 with that item `rejected` (the valid items are stored); `scenario=product` without `product_id`,
   and a `price_max` below `price_min`, are dependencies between parameters that OpenAPI 3.0 cannot express (each
   answered by a 400 that names it); a sign-in with a generated username and password is schema-valid but wrong
   (a 400 that says so). A schemathesis config excludes a check per operation, not per case, so here
   `positive_data_acceptance` is off for the recommendations and sign-in operations as a whole; for PUT
   /api/preferences/ the check stays on and the generated bodies state `price_min` 0 instead (no band can then be
   reversed; the bounded test covers reversed bands case by case). The API-key identity names a `session_id` for
   /api/preferences/, as an integration must (without it: the 400 the schema describes); since schemathesis'
   coverage phase sends some PUT bodies without that parameter, `positive_data_acceptance` is off for PUT
   /api/preferences/ for the API-key identity only (a fifth exception; the anonymous identity keeps the check);
4. prints, per identity, the cases run and the unique failures (operation, check, status), then the total; the
   CLI's full output (each failure with a curl command that reproduces it) is in var/bench-schema-fuzz-<who>.log.

Exit status 0 when no identity found a failure.
"""

from __future__ import annotations

import argparse
import http.cookies
import json
import os
import random
import re
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
PY = sys.executable
SCHEMATHESIS = str(Path(PY).with_name("schemathesis"))
REDIS_DB = "14"  # cache 14, broker 15: the suite uses 8-10, the host-project test 11, the browser tests 12-13
STAFF, STAFF_PASSWORD = "fuzz-staff", "fuzz-staff-pw-1"

# schemathesis' own configuration format (schemathesis.toml): the by-design exceptions of the docstring.
CONFIG = """\
[[operations]]
include-path = "/api/events/"
checks.negative_data_rejection.enabled = false

[[operations]]
include-path = "/api/recommendations/"
checks.positive_data_acceptance.enabled = false

[[operations]]
include-path = "/api/auth/login/"
checks.positive_data_acceptance.enabled = false
"""
# One [[operations]] entry per operation (the first that matches applies), named by `include-name`: separate
# `include-path` and `include-method` keys are two filters either of which matches. The API-key identity's entry
# below replaces this one.
PREFERENCES_PUT = """
[[operations]]
include-name = "PUT /api/preferences/"
parameters = { "body.price_min" = "0" }
"""

# The API-key identity names its shopper, as an integration must: without `session_id` GET/PUT /api/preferences/
# answer the 400 their schema describes ("required with an API key"), a rule of the caller's kind that OpenAPI
# cannot attach to one security scheme, so the fuzzer is given the parameter instead of losing the check.
API_KEY_CONFIG = """\
[[operations]]
include-name = "GET /api/preferences/"
parameters = { "query.session_id" = "fuzz-shopper" }

[[operations]]
include-name = "PUT /api/preferences/"
parameters = { "body.price_min" = "0", "query.session_id" = "fuzz-shopper" }
# schemathesis' coverage phase sends some bodies without the configured parameters (no `session_id` in the query:
# seen twice, `price_min` "" and the body holding a `session_id` of its own), which the server answers with the
# schema-described 400 "required with an API key". For this identity only, that check is off here; the anonymous
# identity keeps it on for this operation, and tests/tracking/test_preferences_schema.py covers the API-key 400.
checks.positive_data_acceptance.enabled = false
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def manage(env: dict[str, str], *args: str) -> str:
    done = subprocess.run([PY, "manage.py", *args], cwd=REPO, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"manage.py {' '.join(args)} failed:\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}")
    return done.stdout


def wait_http(url: str, web: subprocess.Popen[bytes], timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if web.poll() is not None:
            raise SystemExit("gunicorn exited at start")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.5)
    raise SystemExit(f"{url} did not answer within {timeout:.0f} s")


def staff_headers(base: str) -> list[str]:
    """Sign the staff user in through the API, as the storefront does: its session cookie and CSRF token."""
    with urllib.request.urlopen(f"{base}/api/auth/session/", timeout=10) as response:
        cookies = http.cookies.SimpleCookie()
        for header in response.headers.get_all("Set-Cookie") or []:
            cookies.load(header)
    csrf = cookies["csrftoken"].value if "csrftoken" in cookies else ""
    request = urllib.request.Request(
        f"{base}/api/auth/login/",
        data=json.dumps({"username": STAFF, "password": STAFF_PASSWORD}).encode(),
        headers={"Content-Type": "application/json", "X-CSRFToken": csrf, "Cookie": f"csrftoken={csrf}"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        for header in response.headers.get_all("Set-Cookie") or []:
            cookies.load(header)
    jar = "; ".join(f"{name}={morsel.value}" for name, morsel in cookies.items())
    return ["-H", f"Cookie: {jar}", "-H", f"X-CSRFToken: {cookies['csrftoken'].value}"]


def fuzz(base: str, name: str, headers: list[str], args: argparse.Namespace, config: Path) -> dict[str, Any]:
    """One schemathesis CLI run; its summary numbers and unique failures, read from its JSON report."""
    seed = args.seed if args.seed is not None else random.randrange(2**31)
    with tempfile.TemporaryDirectory() as tmp:
        report = Path(tmp) / "report.json"
        # every check (schemathesis 4 enables all by default; `--checks all` would override the exceptions above)
        cmd = [SCHEMATHESIS, "--config-file", str(config), "run", f"{base}/api/schema/"]
        cmd += ["-n", str(args.max_examples), "--workers", str(args.workers), "--seed", str(seed)]
        cmd += ["--max-time", str(args.max_time), "--generation-database", "none", "--no-color"]
        cmd += ["--report", "json", "--report-json-path", str(report), *headers]
        started = time.monotonic()
        # run in the scratch folder: the CLI keeps a cache of crashes in its working directory
        done = subprocess.run(cmd, cwd=tmp, capture_output=True, text=True)
        elapsed = time.monotonic() - started
        data = json.loads(report.read_text()) if report.exists() else {}
    output = done.stdout + done.stderr
    (REPO / "var" / f"bench-schema-fuzz-{name}.log").write_text(output)  # every case, with its curl to replay
    if args.verbose or not data:
        print(output)
    return {"identity": name, "seed": seed, "seconds": elapsed, "output": output, "report": data}


def summarize(result: dict[str, Any]) -> tuple[int, list[str]]:
    """(cases run, unique failures as "operation: check -> status") from the CLI's output."""
    output = result["output"]
    generated = re.search(r"(\d+) generated(?:, \d+ found (\d+) unique failures?)?", output)
    cases = int(generated.group(1)) if generated else 0
    failures: set[str] = set()
    operation, checks = "", list[str]()
    section = output.split("= FAILURES =", 1)[1].split("\n", 1)[-1] if "= FAILURES =" in output else ""
    for line in section.splitlines():
        if header := re.match(r"^_+ (.+?) _+$", line):
            operation, checks = header.group(1), []
        elif check := re.match(r"^- (ST\d+ .+)$", line):
            checks.append(check.group(1))
        elif (status := re.match(r"^\[(\d+)\]", line)) and operation:
            failures.update(f"{operation}: {name} -> {status.group(1)}" for name in checks)
            checks = []
        elif "=" * 10 in line and "FAILURES" not in line:
            break
    if generated and generated.group(2) and not failures:
        failures.add(f"{generated.group(2)} unique failures (see the log)")
    return cases, sorted(failures)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--max-examples", type=int, default=300, help="cases per operation and phase")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--max-time", type=int, default=180, help="seconds per identity, at most")
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument("--identities", default="anonymous,api-key,staff")
    parser.add_argument("--verbose", action="store_true", help="print schemathesis' own output")
    args = parser.parse_args()

    import psycopg
    import redis

    from config import embedded
    from tests.databases import libpq_dsn

    embedded.start()
    database = f"fuzz_dragonrec_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(libpq_dsn("postgres"), autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{database}"')
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = dict(
        os.environ,
        DJANGO_SETTINGS_MODULE="config.settings.test",
        DRAGONREC_WORKER_USE_TEST_DB=database,  # the test settings' switch to a named database
        DRAGONREC_TEST_REDIS_DB=REDIS_DB,
        DRAGONREC_BIND=f"127.0.0.1:{port}",
        DRAGONREC_WEB_WORKERS="2",
        DRAGONREC_WEB_THREADS="4",
        OMP_NUM_THREADS="1",
    )
    redis_base = embedded.redis_url().rsplit("/", 1)[0]
    web: subprocess.Popen[bytes] | None = None
    results = []
    try:
        manage(env, "migrate", "--no-input", "-v", "0")
        manage(env, "dragonrec_demo_data", "--skip-train")
        staff = f"get_user_model().objects.create_superuser({STAFF!r}, password={STAFF_PASSWORD!r})"
        manage(env, "shell", "-c", f"from django.contrib.auth import get_user_model; {staff}")
        scopes = "events:write,recommendations:read,preferences:write"
        key = manage(env, "tracking_apikey", "create", "schema fuzz", "--scopes", scopes).strip().splitlines()[-1]
        for db in (int(REDIS_DB), int(REDIS_DB) + 1):
            redis.Redis.from_url(f"{redis_base}/{db}").flushdb()
        log = open(REPO / "var" / "bench-schema-fuzz.log", "ab")  # noqa: SIM115
        cmd = [PY, "-m", "gunicorn", "-c", str(REPO / "config" / "gunicorn.py"), "config.wsgi:application"]
        web = subprocess.Popen(cmd, cwd=REPO, env=env, stdout=log, stderr=log)
        wait_http(f"{base}/api/categories/", web)
        identities: dict[str, Callable[[], list[str]]] = {
            "anonymous": lambda: [],
            "api-key": lambda: ["-H", f"Authorization: Api-Key {key}"],
            "staff": lambda: staff_headers(base),
        }
        with tempfile.TemporaryDirectory() as tmp:
            config, api_key_config = Path(tmp) / "schemathesis.toml", Path(tmp) / "schemathesis-api-key.toml"
            config.write_text(CONFIG + PREFERENCES_PUT)
            api_key_config.write_text(CONFIG + "\n" + API_KEY_CONFIG)
            for name in args.identities.split(","):
                chosen = api_key_config if name == "api-key" else config
                result = fuzz(base, name, identities[name](), args, chosen)
                cases, failures = summarize(result)
                results.append((name, cases, failures))
                print(
                    f"{name:>10}: {cases} cases in {result['seconds']:.0f} s (seed {result['seed']}), "
                    f"{len(failures)} unique failures"
                )
                for failure in failures:
                    print(f"            {failure}")
    finally:
        if web is not None:
            web.terminate()
            try:
                web.wait(20)
            except subprocess.TimeoutExpired:
                web.kill()
        with psycopg.connect(libpq_dsn("postgres"), autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
        for db in (int(REDIS_DB), int(REDIS_DB) + 1):
            redis.Redis.from_url(f"{redis_base}/{db}").flushdb()
    total_cases = sum(cases for _, cases, _ in results)
    total_failures = sum(len(failures) for _, _, failures in results)
    print(f"     total: {total_cases} cases, {total_failures} unique failures")
    return 1 if total_failures else 0


if __name__ == "__main__":
    raise SystemExit(main())
