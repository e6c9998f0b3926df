"""Settings read at start, then a per-item lookup that uses them."""

import os

SETTINGS = {"scale": int(os.environ.get("LOOKUP_SCALE", "3")), "offset": 11}


def lookup(key):
    return (key * SETTINGS["scale"] + SETTINGS["offset"]) % 97


def main():
    keys = list(range(40))
    found = []
    for key in keys:  # expect: parallel
        found.append(lookup(key))
    print(found[:6], sum(found))


if __name__ == "__main__":
    main()
