#!/usr/bin/env bash
# A Gantry process handler in bash: the job arrives on stdin as one JSON line.
# It never evaluates the payload: it only hands it to a JSON tool (python3 here) as data.
set -euo pipefail
job="$(cat)"
name="$(printf '%s' "$job" | python3 -c 'import json,sys; print(json.load(sys.stdin)["payload"].get("name","world"))')"
echo '{"progress": 50, "message": "halfway"}'
echo "a line on stderr is kept as a log" >&2
printf '{"result": {"greeting": %s}}\n' "$(printf 'Hello, %s!' "$name" | python3 -c 'import json,sys; print(json.dumps(sys.stdin.read()))')"
