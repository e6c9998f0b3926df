"""Dictionaries as items, a kernel that prints, an expected failure caught by the program, and a
bag of heterogeneous tasks: the shapes of a small ETL script."""

import json
import statistics

from toreador import bag_of_task, data_parallel_region

ORDERS = [
    {"id": n, "customer": f"c{n % 4}", "amount": round(10 + (n * 37 % 90) / 3, 2)}
    for n in range(40)
]


def enrich(order):
    tier = "gold" if order["amount"] > 30 else "basic"
    if order["id"] % 10 == 0:
        print(f"checkpoint at order {order['id']}")
    return {**order, "tier": tier}


def strict_amount(order):
    if order["amount"] > 38:
        raise ValueError(f"order {order['id']} over the limit")
    return order["amount"]


def by_customer(orders):
    totals = {}
    for order in orders:
        totals[order["customer"]] = round(totals.get(order["customer"], 0) + order["amount"], 2)
    return totals


def spread(orders):
    return round(statistics.pstdev(o["amount"] for o in orders), 4)


if __name__ == "__main__":
    enriched = data_parallel_region(ORDERS, enrich)
    print(json.dumps(enriched[:3], sort_keys=True))
    try:
        data_parallel_region(ORDERS, strict_amount)
    except ValueError as error:
        print("caught:", error)
    totals, deviation = bag_of_task([enriched, enriched], [by_customer, spread])
    print(json.dumps(totals, sort_keys=True), deviation)
