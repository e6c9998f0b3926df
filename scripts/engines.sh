#!/usr/bin/env bash
# Installs what the engine tests start by themselves, when missing: the Docker engine, debootstrap
# (the tests' base image: no registry is reachable), Redis, docker-compose (to check the
# generated compose file), Chromium (the web compiler's page tests, through Playwright) and
# bubblewrap (the sandbox every run of the web compiler's --allow-run goes into).
# Debian packages; needs root. The tests start and stop them by pid.
set -euo pipefail
wanted=()
command -v dockerd > /dev/null || wanted+=(docker.io)
command -v debootstrap > /dev/null || wanted+=(debootstrap)
command -v redis-server > /dev/null || wanted+=(redis-server)
command -v docker-compose > /dev/null || wanted+=(docker-compose)
command -v chromium > /dev/null || wanted+=(chromium)
command -v bwrap > /dev/null || wanted+=(bubblewrap)
if [ ${#wanted[@]} -eq 0 ]; then
  exit 0
fi
if [ "$(id -u)" != 0 ] || ! command -v apt-get > /dev/null; then
  echo "engines.sh: cannot install ${wanted[*]} (needs root and apt-get); their tests skip" >&2
  exit 0
fi
echo "engines.sh: installing ${wanted[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
if ! apt-get install -y -q --no-install-recommends "${wanted[@]}" > /dev/null; then
  apt-get update -q > /dev/null
  apt-get install -y -q --no-install-recommends "${wanted[@]}" > /dev/null ||
    echo "engines.sh: could not install ${wanted[*]}; their tests skip" >&2
fi
