#!/usr/bin/env bash
# Test-only `hadoop` launcher: Hadoop's own FsShell and RunJar, from the MapReduce client jars
# that pyspark ships, with an empty core-site.xml first on the class path (local file system).
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
classpath="$here/etc/hadoop:$TOREADOR_HADOOP_JARS/*"
java=(java -XX:TieredStopAtLevel=1 -XX:+UseSerialGC -Xshare:auto)  # short-lived JVMs start faster
command=${1:?usage: hadoop fs|jar ...}
shift
case "$command" in
  fs) exec "${java[@]}" -cp "$classpath" org.apache.hadoop.fs.FsShell "$@" ;;
  jar) exec "${java[@]}" -cp "$classpath" org.apache.hadoop.util.RunJar "$@" ;;
  *) echo "test hadoop launcher: only fs and jar" >&2; exit 2 ;;
esac
