"""Split URLs into parts with the standard library, as a crawler's clean-up step."""

from urllib.parse import urlsplit

URLS = [f"https://site{i % 4}.example/path/{i}?q={i * 3}" for i in range(30)]  # expect: parallel


def host_and_depth(url):
    parts = urlsplit(url)
    return parts.hostname, parts.path.count("/")


parts = list(map(host_and_depth, URLS))  # expect: parallel
hosts = {}
for host, depth in parts:  # expect: sequential
    hosts[host] = max(depth, hosts.get(host, 0))
print(sorted(hosts.items()))
