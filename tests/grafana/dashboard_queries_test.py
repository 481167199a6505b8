#!/usr/bin/python3
"""The Grafana dashboard (deploy/grafana/netmarket.json) against a real Prometheus.

There is no Grafana here (Debian has none), so this checks what a Grafana would ask of Prometheus:
starts a small market (tests/drills/market.yaml) with `marketctl up`, writes its scrape
configuration with `marketctl prometheus --local`, starts Debian's Prometheus on a free port, waits
until every node is a target that is up, then runs every query of every panel (with Grafana's
$__rate_interval as Grafana would make it for a 1 s scrape) and requires each to return series,
and each label a legend names ({{node}}) to be on at least one of them. It also checks the file's
shape: unique panel ids, panels within Grafana's 24 columns, every query on the ${datasource}
variable.

    dashboard_queries_test.py <marketctl> <scenario.yaml> <dashboard.json>

Without /usr/bin/prometheus it says so and exits 77 (skipped), unless CI=true: then that fails.
"""
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request

PROMETHEUS = "/usr/bin/prometheus"
RATE_INTERVAL = "15s"  # Grafana: max(4 x scrape interval, step + scrape interval) at 1 s scrapes


def say(message):
    print(f"grafana dashboard: {message}", flush=True)


def until(what, probe, seconds):
    """Polls `probe` until it returns something truthy, for at most `seconds`."""
    deadline = time.monotonic() + seconds
    while True:
        got = probe()
        if got:
            return got
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {seconds} s: {what}")
        time.sleep(0.2)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def get_json(url):
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return json.load(response)
    except (OSError, ValueError):
        return None


def check_shape(dashboard):
    ids = [p["id"] for p in dashboard["panels"]]
    assert len(ids) == len(set(ids)), f"panel ids repeat: {ids}"
    queries = []
    for panel in dashboard["panels"]:
        grid = panel["gridPos"]
        assert 0 <= grid["x"] and grid["x"] + grid["w"] <= 24, f"{panel['title']}: {grid}"
        if panel["type"] == "row":
            continue
        assert panel["targets"], f"{panel['title']}: no query"
        for target in panel["targets"]:
            assert target["datasource"]["uid"] == "${datasource}", panel["title"]
            queries.append((panel["title"], target))
    variables = [v["name"] for v in dashboard["templating"]["list"]]
    assert variables == ["datasource"], variables
    return queries


def main():
    marketctl, scenario, dashboard_file = sys.argv[1:4]
    if not os.access(PROMETHEUS, os.X_OK):
        if os.environ.get("CI") == "true":
            say(f"FAILED: {PROMETHEUS} is missing, and CI=true requires this test "
                "(deploy/install-deps.sh installs it)")
            return 1
        say(f"skipped: no {PROMETHEUS} here (deploy/install-deps.sh installs it)")
        return 77
    with open(dashboard_file) as f:
        queries = check_shape(json.load(f))
    say(f"{len(queries)} queries in the dashboard")

    run = tempfile.mkdtemp(prefix="mctl-grafana-")
    prometheus = None
    log = open(os.path.join(run, "prometheus.log"), "w")
    try:
        ctl = lambda *args: subprocess.run([marketctl, *args, "--run", run], check=True,
                                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                           text=True).stdout
        ctl("up", scenario, "--detach")
        config = os.path.join(run, "prometheus.yml")
        ctl("prometheus", scenario, "--local", "-o", config)
        port = free_port()
        prometheus = subprocess.Popen(
            [PROMETHEUS, f"--config.file={config}", f"--storage.tsdb.path={run}/tsdb",
             f"--web.listen-address=127.0.0.1:{port}"], stdout=log, stderr=log)
        api = f"http://127.0.0.1:{port}/api/v1"
        with open(os.path.join(run, "state")) as f:
            nodes = len(re.findall(r"^node id=\S+", f.read(), re.M))

        def targets_up():
            got = get_json(f"{api}/targets?state=active")
            if got is None:
                assert prometheus.poll() is None, "prometheus exited: see its log"
                return None
            active = got["data"]["activeTargets"]
            return len(active) == nodes and all(t["health"] == "up" for t in active)
        until(f"all {nodes} nodes scraped and up", targets_up, 60)
        say(f"Prometheus on port {port} scrapes all {nodes} nodes")

        failures = []
        for title, target in queries:
            expr = target["expr"].replace("$__rate_interval", RATE_INTERVAL)
            url = f"{api}/query?" + urllib.parse.urlencode({"query": expr})

            def answered():
                got = get_json(url)
                return got["data"]["result"] if got and got["data"]["result"] else None
            try:
                result = until(f"{title}: {expr}", answered, 30)
            except AssertionError as e:
                answer = get_json(url)
                failures.append(f"{e} (answer: {answer})")
                continue
            for label in re.findall(r"\{\{(\w+)\}\}", target["legendFormat"]):
                if not any(label in series["metric"] for series in result):
                    failures.append(f"{title}: no series has the label '{label}' its legend "
                                    f"names: {result[0]['metric']}")
            numbers = sum(1 for s in result if s["value"][1] not in ("NaN", "+Inf", "-Inf"))
            say(f"{len(result):3} series, {numbers:3} with a number: {title} [{target['refId']}]")
        if failures:
            for failure in failures:
                say(f"FAILED: {failure}")
            return 1
        say("OK")
        return 0
    finally:
        if prometheus is not None:
            prometheus.terminate()
            prometheus.wait(timeout=30)
        subprocess.run([marketctl, "down", "--run", run], stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL)
        log.close()
        shutil.rmtree(run, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
