#!/usr/bin/env python3
"""A Gantry process handler: the job arrives on stdin, JSON lines go out on stdout."""
import json
import sys
import time

job = json.load(sys.stdin)
name = job["payload"].get("name", "world")
steps = int(job["payload"].get("steps", 3))

for i in range(1, steps + 1):
    time.sleep(0.1)
    print(json.dumps({"progress": 100 * i / steps, "message": f"step {i} of {steps}"}), flush=True)

print(json.dumps({"log": f"greeting {name} on attempt {job['attempt']}", "level": "info"}), flush=True)
print(json.dumps({"result": {"greeting": f"Hello, {name}!", "attempt": job["attempt"]}}), flush=True)
