"""Items and results are instances of user dataclasses."""

from dataclasses import dataclass

from toreador import data_parallel_region


@dataclass(frozen=True)
class Home:
    gateway: str
    panels: int
    battery_kwh: float


@dataclass
class Rating:
    gateway: str
    score: float


def rate(home):
    return Rating(home.gateway, round(home.panels * 0.4 + home.battery_kwh / 3, 3))


homes = [Home(f"UTX{i:04d}", 4 + i % 9, 5.0 + i % 4) for i in range(60)]
ratings = data_parallel_region(homes, rate)
for rating in sorted(ratings, key=lambda r: (-r.score, r.gateway))[:10]:
    print(rating)
print(isinstance(ratings[0], Rating), type(ratings[0]).__name__)
