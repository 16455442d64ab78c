#!/usr/bin/env python3
"""Latency of `train serve`'s endpoints, as the page sees them.

Start a server over the runs to measure (e.g. `cargo run --release -p train -- serve --port 8080`),
then run `python3 benches/serve_latency.py --url http://127.0.0.1:8080 --requests 100`.

Drawing: each request sends a different MNIST test digit (from /api/digits) with 20 % masking
noise and a new seed, as the page does while you draw; the first request (which loads every
model) is reported apart. With `--inside`, then the views inside the models, each first request
(which builds what later ones reuse) apart: interpolations between two test digits (9 steps,
every model), every model's hidden-unit grid and then details of its units, and the nearest
training digits per model (the first builds its codes of the 60 000 training digits) and for
every model at once.

Prints the client's round trip (request to parsed JSON) and the server's own time
(`milliseconds` in the answer) as median, 90th percentile and maximum. Python standard library only.
"""
import argparse
import json
import statistics
import time
import urllib.request


def post(url, body, path="/api/reconstruct"):
    request = urllib.request.Request(
        url + path,
        data=json.dumps(body).encode(),
        headers={"content-type": "application/json"},
    )
    return timed(request)


def get(url, path):
    return timed(url + path)


def timed(request):
    started = time.perf_counter()
    with urllib.request.urlopen(request) as answer:
        value = json.loads(answer.read())
    return (time.perf_counter() - started) * 1e3, value


def summary(values):
    values = sorted(values)
    p90 = values[min(len(values) - 1, int(0.9 * len(values)))]
    return f"median {statistics.median(values):6.1f} ms  p90 {p90:6.1f} ms  max {values[-1]:6.1f} ms"


def report(what, answers):
    """Prints round trip and server time of a list of (round trip, answer)."""
    client = [elapsed for elapsed, _ in answers]
    server = [value["milliseconds"] for _, value in answers]
    print(f"{what}, round trip:  {summary(client)}")
    print(f"{what}, in server:   {summary(server)}")


def first(what, answer):
    elapsed, value = answer
    print(f"{what}: {elapsed:.1f} ms round trip, {value['milliseconds']:.1f} ms in the server")


def inside(url, runs, requests):
    """The views inside the models: interpolation, hidden units, nearest digits."""
    pair = lambda i: {"a": {"test": i % 10000}, "b": {"test": (7 * i + 1) % 10000}, "steps": 9}
    first("first interpolation (reads the training set, fits PCA)", post(url, pair(0), "/api/interpolate"))
    report(f"{requests} interpolations, {len(runs)} models", [post(url, pair(i + 1), "/api/interpolate") for i in range(requests)])
    for name in runs:
        first(f"{name}: unit grid, first (its codes of the test set)", get(url, f"/api/runs/{name}/units"))
        hidden = get(url, f"/api/runs/{name}/units")[1]["hidden"]
        report(f"{name}: {requests} unit details", [get(url, f"/api/runs/{name}/units/{(37 * i) % hidden}") for i in range(requests)])
    digit = lambda i: {"digit": {"test": (13 * i) % 10000}}
    for name in runs:
        first(f"{name}: first nearest digits (encodes the training set)", post(url, {**digit(0), "runs": [name]}, "/api/nearest"))
        report(f"{name}: {requests} nearest digits", [post(url, {**digit(i + 1), "runs": [name]}, "/api/nearest") for i in range(requests)])
    report(f"{requests} nearest digits, {len(runs)} models", [post(url, digit(i + 1), "/api/nearest") for i in range(requests)])


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default="http://127.0.0.1:8080")
    parser.add_argument("--requests", type=int, default=100)
    parser.add_argument("--inside", action="store_true", help="also the views inside the models")
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
    if args.inside:
        inside(args.url, runs, args.requests)


if __name__ == "__main__":
    main()
