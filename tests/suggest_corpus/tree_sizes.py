"""Sizes of the files under a folder: each file on its own; the walk itself is sequential."""

import os
import tempfile

ROOT = tempfile.mkdtemp(prefix="tree-")
for number in range(6):  # expect: sequential
    with open(os.path.join(ROOT, f"f{number}.txt"), "w") as handle:
        handle.write("x" * (number * 100))


def size_of(name, root):
    return os.path.getsize(os.path.join(root, name))


names = sorted(os.listdir(ROOT))
sizes = []
for name in names:  # expect: parallel
    sizes.append(size_of(name, ROOT))
print(sizes)
for name in names:  # expect: sequential
    os.remove(os.path.join(ROOT, name))
os.rmdir(ROOT)
