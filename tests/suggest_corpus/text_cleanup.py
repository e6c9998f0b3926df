"""Clean a list of titles: each title on its own; a de-duplicating pass that is not."""

import re
import unicodedata

TITLES = [f"  The {w} Report  ({i})  " for i, w in enumerate(["Café", "Naïve", "Straße"] * 5)]


def clean(title):
    text = unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode()
    return re.sub(r"\\s+", " ", text).strip().lower()


def slug(title, separator):
    return separator.join(re.findall(r"[a-z0-9]+", title))


cleaned = [clean(t) for t in TITLES]  # expect: parallel
slugs = []
for title in cleaned:  # expect: parallel
    slugs.append(slug(title, "-"))
unique = []
seen = set()
for s in slugs:  # expect: sequential
    if s in seen:
        continue
    seen.add(s)
    unique.append(s)
print(slugs[:3], len(unique))
