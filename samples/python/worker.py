#!/usr/bin/env python3
"""A Gantry worker in Python, written from the OpenAPI document alone (/openapi.json).

It speaks the worker protocol of a Gantry server over HTTP with a worker token: register, then
fetch jobs (long-poll), run them, report the outcome; a heartbeat thread renews the leases of
the jobs it holds. Standard library only.

    python3 samples/python/worker.py --server http://127.0.0.1:5080 --token <worker token>
"""
import argparse, json, os, signal, socket, threading, time, traceback, urllib.request, uuid

parser = argparse.ArgumentParser(description="A Gantry worker in Python")
parser.add_argument("--server", default=os.environ.get("GANTRY_SERVER", "http://127.0.0.1:5080"))
parser.add_argument("--token", default=os.environ.get("GANTRY_TOKEN"))
parser.add_argument("--queue", default="default")
parser.add_argument("--concurrency", type=int, default=1)
args = parser.parse_args()

WORKER_ID = f"py-{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:6]}"
LEASE_SECONDS = 30
held = {}            # job id -> attempt, for heartbeats
taken = set()        # claims whose jobs are all in `held` (or reported): named to the next heartbeat
lock = threading.Lock()
stopping = threading.Event()


def call(path, body):
    request = urllib.request.Request(args.server.rstrip("/") + path, data=json.dumps(body).encode(), method="POST",
                                     headers={"Content-Type": "application/json"})
    if args.token:
        request.add_header("Authorization", f"Bearer {args.token}")
    with urllib.request.urlopen(request, timeout=60) as response:
        text = response.read()
        return json.loads(text) if text else None


# The handlers this worker serves: job type -> function(payload, job) -> result.
def shout(payload, job):
    return {"shouted": str(payload.get("text", "")).upper(), "by": "python", "attempt": job["attempt"]}


HANDLERS = {"py-shout": shout}


def report(job, **fields):
    body = {"reports": [dict(job_id=job["id"], attempt=job["attempt"], worker_id=WORKER_ID, **fields)]}
    try:
        call("/api/v1/worker/report", body)
    except urllib.error.HTTPError as e:
        if e.code != 409:  # 409: the attempt is no longer ours (stale); nothing to do
            raise


def run(job):
    try:
        result = HANDLERS[job["type"]](job["payload"], job)
        report(job, kind="succeeded", result=result)
    except Exception as e:  # the attempt failed: dead when attempts are exhausted, else retried soon
        last = job["attempt"] >= job["max_attempts"]
        report(job, kind="failed", next="dead" if last else "queued",
               error={"kind": "exception", "message": str(e), "type": type(e).__name__, "stack_trace": traceback.format_exc()})
    finally:
        with lock:
            held.pop(job["id"], None)


def heartbeat():
    while not stopping.wait(5):
        with lock:  # claims first: each one's jobs were put in `held` before it was taken
            claims = sorted(taken)
            leases = [{"job_id": j, "attempt": a} for j, a in held.items()]
        answer = call("/api/v1/worker/heartbeat", {"worker_id": WORKER_ID, "lease_seconds": LEASE_SECONDS,
                                                   "jobs": leases, "claims": claims})
        with lock:
            taken.difference_update(claims)  # the store now leases their jobs through this heartbeat
            for lost in answer.get("lost_jobs", []):
                held.pop(lost["job_id"], None)


def main():
    signal.signal(signal.SIGTERM, lambda *_: stopping.set())
    call("/api/v1/worker/register", {
        "id": WORKER_ID, "host": socket.gethostname(), "process_id": os.getpid(), "version": "python-sample",
        "queues": {args.queue: args.concurrency}, "capacity": args.concurrency,
        "job_types": sorted(HANDLERS), "capabilities": [], "tags": {"language": "python"},
    })
    print(f"python worker {WORKER_ID} serving {sorted(HANDLERS)} on queue {args.queue}", flush=True)
    threading.Thread(target=heartbeat, daemon=True).start()
    try:
        while not stopping.is_set():
            answer = call("/api/v1/worker/fetch", {
                "worker_id": WORKER_ID, "queues": [{"queue": args.queue, "limit": args.concurrency}],
                "lease_seconds": LEASE_SECONDS, "job_types": sorted(HANDLERS), "wait_seconds": 2})
            with lock:  # every job of the fetch is held before its claim is named (PostgreSQL numbers claims)
                held.update({job["id"]: job["attempt"] for job in answer["jobs"]})
                taken.update(job["claim"] for job in answer["jobs"] if job.get("claim"))
            for job in answer["jobs"]:
                run(job)
    finally:
        call("/api/v1/worker/deregister", {"worker_id": WORKER_ID})
        print("python worker stopped", flush=True)


if __name__ == "__main__":
    main()
