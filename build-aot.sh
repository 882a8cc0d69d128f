#!/usr/bin/env bash
# Builds gantry and gantry-worker (the worker command alone, without the web host: a worker process's small footprint)
# as Native AOT executables in artifacts/gantry-aot/ (beside the JIT build of ./gantry, which it leaves alone).
# `./build-aot.sh gantry-worker` (or `gantry`) builds only that one. The native link needs clang and zlib's headers: installed here with apt-get when missing and run as root.
# Takes minutes (the AOT compiler compiles the whole program and the parts of .NET it uses); see docs/benchmarks.md.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
out="$root/artifacts/gantry-aot"
mkdir -p "$root/artifacts"

if ! command -v clang >/dev/null 2>&1 || [ ! -f /usr/include/zlib.h ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "build-aot: installing clang and zlib1g-dev…" >&2
    apt-get install -y -qq clang zlib1g-dev >/dev/null
  else
    echo "build-aot: Native AOT needs clang and zlib1g-dev (apt-get install clang zlib1g-dev)" >&2
    exit 1
  fi
fi
if ! command -v dotnet >/dev/null 2>&1; then
  echo "build-aot: the .NET 10 SDK is needed (https://dot.net); 'dotnet' is not on PATH" >&2
  exit 1
fi

# Warnings are not errors here: the trim and AOT analysis of the framework's and dependencies' code reports warnings
# that are not Gantry's to fix. Everything is trimmed (TrimMode=full: a smaller program holds less in memory); the API
# and the built-in handlers use source-generated JSON. In gantry, reflection-based System.Text.Json stays enabled for
# the few places that still read by reflection (the JobClient an application may call with its own types);
# gantry-worker's project leaves it out (it reads and writes only types with generated metadata).
publish() { # project, executable, extra properties
  echo "build-aot: publishing Native AOT $2 to $out (takes minutes)…" >&2
  dotnet publish "$root/src/$1/$1.csproj" -c Release -r linux-x64 -o "$out" --nologo -v quiet \
    -p:PublishAot=true -p:TreatWarningsAsErrors=false -p:TrimMode=full "${@:3}" \
    >"$out-$2.log" 2>&1 || { tail -n 30 "$out-$2.log" >&2; echo "build-aot: publish of $2 failed (log: $out-$2.log)" >&2; exit 1; }
  echo "build-aot: $out/$2" >&2
}
publish_gantry() { publish Gantry.Cli gantry -p:JsonSerializerIsReflectionEnabledByDefault=true; }
case "${1:-all}" in
  gantry) publish_gantry ;;
  gantry-worker) publish Gantry.Cli.Worker gantry-worker ;;
  all) publish_gantry; publish Gantry.Cli.Worker gantry-worker ;;
  *) echo "build-aot: '$1' is not gantry, gantry-worker or nothing (both)" >&2; exit 2 ;;
esac
