#!/usr/bin/python3
"""A custom trading agent in Python, attached to a running market over gRPC.

It uses only the published proto files (generate the modules with examples/python/make-stubs.sh)
and Debian's python3-grpcio. It reads the exchange's symbol list and the book's snapshot, then
sends orders on the order session that buy at the best ask (crossing the spread), and prints
every fill. Run it under the node id of an `external` agent of the scenario, so the network
proxy applies that agent's links to it:

    examples/python/make-stubs.sh /tmp/stubs
    PYTHONPATH=/tmp/stubs /usr/bin/python3 examples/python/custom_agent.py \\
        --exchange 127.0.0.1:PORT --proxy 127.0.0.1:PROXY_PORT --node custom \\
        --accounts run/accounts --symbol ACME --orders 3

In a market started with `marketctl up --tls` (or composed with --tls), add --tls-dir RUN/tls:
the agent then presents its own certificate (RUN/tls/<node>.pem and .key, which marketctl made
for every agent of the scenario) and checks the exchange's, end to end through the proxy.

Exits 0 once every order is answered and at least one lot traded, 1 otherwise.
"""
import argparse
import sys
import threading
import time

import grpc

from market.common.v1 import common_pb2
from market.exchange.v1 import exchange_pb2, exchange_pb2_grpc


def api_key(accounts_file, account):
    """The account's key: its '<account> <key>' line of the accounts file marketctl writes."""
    with open(accounts_file) as f:
        for line in f:
            parts = line.split()
            if len(parts) == 2 and not line.startswith("#") and parts[0] == account:
                return parts[1]
    sys.exit(f"custom_agent: {accounts_file} has no key for {account}")


def channel(target, node, proxy, tls_dir="", peer=""):
    # Through the proxy, as every process of the market: gRPC sends "CONNECT target" to it with
    # the node id, and the proxy applies that node's links.
    options = [("grpc.http_proxy", f"http://{node}@{proxy}")] if proxy else [("grpc.enable_http_proxy", 0)]
    if not tls_dir:
        return grpc.insecure_channel(target, options=options)
    # Mutual TLS: the run's CA, this node's key and certificate; the exchange's certificate must
    # name `peer`, its node id (the address names no node).
    def read(leaf):
        with open(f"{tls_dir}/{leaf}", "rb") as f:
            return f.read()
    credentials = grpc.ssl_channel_credentials(
        root_certificates=read("ca.pem"), private_key=read(f"{node}.key"),
        certificate_chain=read(f"{node}.pem"))
    options.append(("grpc.ssl_target_name_override", peer))
    return grpc.secure_channel(target, credentials, options=options)


def snapshot(stub, symbol, timeout):
    """The first market data message: the book's snapshot."""
    stream = stub.StreamMarketData(exchange_pb2.MarketDataRequest(symbols=[symbol]), timeout=timeout)
    try:
        for event in stream:
            if event.HasField("snapshot"):
                return event.snapshot
    finally:
        stream.cancel()
    sys.exit("custom_agent: no snapshot")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--exchange", required=True, help="host:port of the exchange")
    parser.add_argument("--proxy", default="", help="host:port of the network proxy")
    parser.add_argument("--node", required=True, help="this agent's node id (and account)")
    parser.add_argument("--accounts", required=True, help="the run's accounts file")
    parser.add_argument("--symbol", required=True)
    parser.add_argument("--orders", type=int, default=3)
    parser.add_argument("--lots", type=int, default=1)
    parser.add_argument("--timeout", type=float, default=20.0, help="seconds for the whole run")
    parser.add_argument("--tls-dir", default="", help="a TLS market's certificates (RUN/tls)")
    parser.add_argument("--exchange-id", default="",
                        help="with --tls-dir: the exchange's node id (default: --exchange's host)")
    args = parser.parse_args()

    key = api_key(args.accounts, args.node)
    peer = args.exchange_id or args.exchange.rsplit(":", 1)[0]
    stub = exchange_pb2_grpc.ExchangeStub(
        channel(args.exchange, args.node, args.proxy, args.tls_dir, peer))
    listed = stub.ListSymbols(exchange_pb2.ListSymbolsRequest(), timeout=args.timeout)
    spec = next((s for s in listed.symbols if s.symbol == args.symbol), None)
    if spec is None:
        sys.exit(f"custom_agent: {listed.exchange_id} does not list {args.symbol}")
    print(f"{listed.exchange_id} lists {args.symbol}: tick {spec.tick_size}, lot {spec.lot_size}")

    # Wait for someone to quote an ask.
    deadline = time.monotonic() + args.timeout
    book = snapshot(stub, args.symbol, args.timeout)
    while not book.asks and time.monotonic() < deadline:
        time.sleep(0.1)
        book = snapshot(stub, args.symbol, args.timeout)
    if not book.asks:
        sys.exit("custom_agent: nobody offers " + args.symbol)
    print(f"book: best bid {book.bids[0].price_ticks if book.bids else '-'}, "
          f"best ask {book.asks[0].price_ticks} (ticks)")

    # The order session: requests go out from this generator; events come back on the stream.
    # Both directions carry batches: a message here holds one request, and the exchange may put
    # several events into one message.
    answered = threading.Semaphore(0)
    done = threading.Event()

    def requests():
        for i in range(1, args.orders + 1):
            header = common_pb2.Header(sender=args.node, sent_at_ns=time.time_ns())
            submit = exchange_pb2.SubmitOrderRequest(
                header=header, client_order_id=f"{args.node}-py-{time.time_ns()}-{i}",
                symbol=args.symbol, side=common_pb2.SIDE_BUY, type=exchange_pb2.ORDER_TYPE_LIMIT,
                time_in_force=exchange_pb2.TIME_IN_FORCE_IOC,
                price_ticks=book.asks[0].price_ticks + 5, quantity_lots=args.lots)
            yield exchange_pb2.SessionRequests(
                requests=[exchange_pb2.SessionRequest(request_id=i, submit=submit)])
            answered.acquire()  # one order at a time: the next after this one's answer
        done.wait()

    filled = 0
    finished = 0
    session = stub.OrderSession(requests(), metadata=[("x-api-key", key)], timeout=args.timeout)
    try:
        for event in (event for message in session for event in message.events):
            kind = event.event.WhichOneof("event")
            if kind == "fill":
                f = event.event.fill
                filled += f.quantity_lots
                print(f"fill: trade {f.trade_id}, {f.quantity_lots} lots at {f.price_ticks} ticks")
            elif kind == "rejected":
                print(f"rejected: {event.event.rejected.detail}")
            # An IOC order is finished by its last fill (nothing remains), a cancel of its rest,
            # or a rejection.
            last = (kind == "fill" and event.event.fill.remaining_quantity_lots == 0) or \
                kind in ("cancelled", "rejected")
            if last and event.request_id != 0:
                finished += 1
                answered.release()
                if finished == args.orders:
                    break
    finally:
        done.set()
        session.cancel()
    print(f"custom_agent: {finished} orders answered, {filled} lots bought")
    return 0 if finished == args.orders and filled > 0 else 1


if __name__ == "__main__":
    sys.exit(main())
