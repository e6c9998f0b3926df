"""An inventory: objects with methods, a loop that changes them in place."""

from dataclasses import dataclass


@dataclass
class Item:
    name: str
    stock: int
    price: float

    def value(self):
        return self.stock * self.price


ITEMS = [Item(f"part{i}", (i * 13) % 40, 1.5 + i % 7) for i in range(25)]  # expect: parallel


def restock(item, amount):
    item.stock += amount
    return item.stock


values = [item.value() for item in ITEMS]  # expect: parallel
print(round(sum(values), 2))
levels = []
for item in ITEMS:  # expect: sequential
    levels.append(restock(item, 5))
print(sum(levels), ITEMS[0].stock)
names = list(map(str.upper, (item.name for item in ITEMS)))  # expect: parallel
print(names[:3])
