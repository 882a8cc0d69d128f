#!/usr/bin/env bash
# Runs every test project and ends with one line totalling them all: "N passed, N failed, N skipped".
# Exits non-zero when anything failed. Needs the .NET 10 SDK; installs PostgreSQL, chromium and chromium-driver with apt-get when missing.
set -uo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$root"
results="$root/artifacts/test-results"
rm -rf "$results"
mkdir -p "$results"

if ! command -v dotnet >/dev/null 2>&1; then
  echo "test.sh: the .NET 10 SDK is needed ('dotnet' is not on PATH)" >&2
  echo "0 passed, 1 failed"
  exit 1
fi

# Every test project must be in the solution, or it would silently not be built.
projects=()
for p in tests/*/*.csproj; do
  [ -f "$p" ] || continue
  if ! grep -q "$p" Gantry.slnx; then
    echo "test.sh: $p is not in Gantry.slnx (dotnet sln Gantry.slnx add $p)" >&2
    echo "0 passed, 1 failed"
    exit 1
  fi
  projects+=("$p")
done

# The PostgreSQL tests start a throwaway cluster from /usr/lib/postgresql/*/bin unless GANTRY_TEST_POSTGRES
# names a server; no test is skipped for lack of one, so install the binaries when they are missing.
if [ -z "${GANTRY_TEST_POSTGRES:-}" ] && ! compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null; then
  if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "== installing postgresql (apt-get)"
    if ! { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null; }; then
      echo "test.sh: could not install the postgresql package; install it or set GANTRY_TEST_POSTGRES to a connection string" >&2
      echo "0 passed, 1 failed"
      exit 1
    fi
  fi
  if ! compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null; then
    echo "test.sh: PostgreSQL binaries not found in /usr/lib/postgresql/*/bin; install the postgresql package (as root) or set GANTRY_TEST_POSTGRES" >&2
    echo "0 passed, 1 failed"
    exit 1
  fi
fi

# The dashboard's browser tests drive Debian's chromium through chromium-driver (never a downloaded browser): install
# both when missing, as for PostgreSQL.
if [ ! -x /usr/bin/chromium ] || [ ! -x /usr/bin/chromedriver ]; then
  if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "== installing chromium and chromium-driver (apt-get)"
    if ! { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null; }; then
      echo "test.sh: could not install the chromium and chromium-driver packages; install them for the dashboard's browser tests" >&2
      echo "0 passed, 1 failed"
      exit 1
    fi
  fi
  if [ ! -x /usr/bin/chromium ] || [ ! -x /usr/bin/chromedriver ]; then
    echo "test.sh: /usr/bin/chromium or /usr/bin/chromedriver not found; install the chromium and chromium-driver packages (as root)" >&2
    echo "0 passed, 1 failed"
    exit 1
  fi
fi

echo "== build"
if ! dotnet build Gantry.slnx -c Debug --nologo -v quiet -clp:ErrorsOnly; then
  echo "test.sh: build failed" >&2
  echo "0 passed, 1 failed"
  exit 1
fi

# The projects run one after another (the CLI's tests run three classes at a time within their project, which keeps
# the two cores busy; more beside them makes the timing-sensitive tests of the others wait for the CPU). Each one's
# output is shown as it comes and kept in a log of its own, with its exit code and how long it took.
for p in "${projects[@]}"; do
  name="$(basename "$p" .csproj)"
  echo "== $name"
  started=$SECONDS
  dotnet test "$p" -c Debug --no-build --nologo --logger "trx;LogFileName=$name.trx" --results-directory "$results" \
    -- RunConfiguration.TestSessionTimeout=1200000 2>&1 | tee "$results/$name.log"
  echo "${PIPESTATUS[0]}" >"$results/$name.rc"
  echo "== $name: $((SECONDS - started)) s"
done

passed=0; failed=0; skipped=0; status=0
for p in "${projects[@]}"; do
  name="$(basename "$p" .csproj)"
  rc="$(cat "$results/$name.rc" 2>/dev/null || echo 1)"
  trx="$results/$name.trx"
  if [ -f "$trx" ]; then
    counters="$(grep -o '<Counters [^>]*>' "$trx" | head -n 1)"
    get() { echo "$counters" | sed -n "s/.* $1=\"\([0-9]*\)\".*/\1/p"; }
    p_=$(get passed); f_=$(get failed); t_=$(get total); e_=$(get executed)
    p_=${p_:-0}; f_=${f_:-0}; t_=${t_:-0}; e_=${e_:-0}
    passed=$((passed + p_)); failed=$((failed + f_)); skipped=$((skipped + t_ - e_))
    if [ "$rc" -ne 0 ] && [ "$f_" -eq 0 ]; then failed=$((failed + 1)); echo "test.sh: $name exited with $rc" >&2; fi
  else
    echo "test.sh: $name produced no results (exit $rc)" >&2
    failed=$((failed + 1))
  fi
  [ "$rc" -ne 0 ] && status=1
done

echo
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ] && [ "$status" -eq 0 ]
