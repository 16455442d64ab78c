#!/usr/bin/env python3
"""Latency of `train serve`'s draw endpoint, as the page sees it.

Start a server over the runs to measure (e.g. `cargo run --release -p train -- serve --port 8080`),
then run `python3 benches/serve_latency.py --url http://127.0.0.1:8080 --requests 100`. Each
request sends a different MNIST test digit (from /api/digits) with 20 % masking noise and a new
seed, as the page does while you draw; the first request (which loads every model) is reported
apart. Prints the client's round trip (request to parsed JSON) and the server's own time
(`milliseconds` in the answer) as median, 90th percentile and maximum. Python standard library only.
"""
import argparse
import json
import statistics
import time
import urllib.request


def post(url, body):
    started = time.perf_counter()
    request = urllib.request.Request(
        url + "/api/reconstruct",
        data=json.dumps(body).encode(),
        headers={"content-type": "application/json"},
    )
    with urllib.request.urlopen(request) as answer:
        value = json.loads(answer.read())
    return (time.perf_counter() - started) * 1e3, value


def summary(values):
    values = sorted(values)
    p90 = values[min(len(values) - 1, int(0.9 * len(values)))]
    return f"median {statistics.median(values):6.1f} ms  p90 {p90:6.1f} ms  max {values[-1]:6.1f} ms"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default="http://127.0.0.1:8080")
    parser.add_argument("--requests", type=int, default=100)
    args = parser.parse_args()
    with urllib.request.urlopen(args.url + "/api/digits") as answer:
        digits = json.loads(answer.read())
    first, value = post(args.url, {"pixels": digits[0]["pixels"], "noise": 0.2, "seed": 0})
    runs = [r["name"] for r in value["runs"]]
    print(f"{len(runs)} models: {', '.join(runs)}")
    print(f"first request (loads every model): {first:.1f} ms round trip, {value['milliseconds']:.1f} ms in the server")
    client, server = [], []
    for i in range(args.requests):
        digit = digits[i % len(digits)]["pixels"]
        elapsed, value = post(args.url, {"pixels": digit, "noise": 0.2, "seed": i + 1})
        client.append(elapsed)
        server.append(value["milliseconds"])
    print(f"{args.requests} requests, round trip:  {summary(client)}")
    print(f"{args.requests} requests, in server:   {summary(server)}")


if __name__ == "__main__":
    main()
