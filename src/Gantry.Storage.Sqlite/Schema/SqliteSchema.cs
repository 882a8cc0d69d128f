namespace Gantry.Storage.Sqlite;

/// <summary>
/// Versioned migrations. Each runs once, in order, inside the same transaction that records it;
/// a store whose version is newer than this code is refused rather than guessed at.
/// </summary>
internal static class SqliteSchema
{
    public static readonly IReadOnlyList<(int Version, string Sql)> Migrations =
    [
        (1, """
            CREATE TABLE jobs (
              seq                   INTEGER PRIMARY KEY,
              id                    TEXT    NOT NULL UNIQUE,
              type                  TEXT    NOT NULL,
              queue                 TEXT    NOT NULL,
              state                 TEXT    NOT NULL,
              priority              INTEGER NOT NULL DEFAULT 0,
              payload               TEXT    NOT NULL,
              attempt               INTEGER NOT NULL DEFAULT 0,
              max_attempts          INTEGER NOT NULL,
              attempt_budget        INTEGER NOT NULL,
              timeout_ms            INTEGER,
              backoff_base_ms       INTEGER NOT NULL,
              backoff_max_ms        INTEGER NOT NULL,
              created_at            INTEGER NOT NULL,
              run_at                INTEGER,
              started_at            INTEGER,
              finished_at           INTEGER,
              worker_id             TEXT,
              lease_until           INTEGER,
              idempotency_key       TEXT,
              tags                  TEXT,
              required_capabilities TEXT,
              progress              REAL,
              progress_message      TEXT,
              result                TEXT,
              cancel_requested_at   INTEGER
            );
            -- The claim reads only queued rows, in priority then age order.
            CREATE INDEX jobs_claim ON jobs (queue, priority DESC, seq) WHERE state = 'queued';
            CREATE INDEX jobs_due ON jobs (run_at) WHERE state = 'scheduled';
            CREATE INDEX jobs_lease ON jobs (lease_until) WHERE state = 'running';
            CREATE UNIQUE INDEX jobs_idempotency ON jobs (queue, idempotency_key) WHERE idempotency_key IS NOT NULL;

            CREATE TABLE job_errors (
              job_seq    INTEGER NOT NULL,
              attempt    INTEGER NOT NULL,
              at         INTEGER NOT NULL,
              worker_id  TEXT,
              kind       TEXT    NOT NULL,
              error_type TEXT,
              message    TEXT    NOT NULL,
              stack      TEXT,
              PRIMARY KEY (job_seq, attempt)
            ) WITHOUT ROWID;

            CREATE TABLE workers (
              id           TEXT PRIMARY KEY,
              host         TEXT    NOT NULL,
              pid          INTEGER NOT NULL,
              version      TEXT    NOT NULL,
              queues       TEXT    NOT NULL,
              capacity     INTEGER NOT NULL,
              job_types    TEXT,
              capabilities TEXT,
              tags         TEXT,
              state        TEXT    NOT NULL,
              started_at   INTEGER NOT NULL,
              last_seen_at INTEGER NOT NULL,
              running_jobs INTEGER NOT NULL DEFAULT 0
            );

            CREATE TABLE worker_commands (
              seq        INTEGER PRIMARY KEY,
              worker_id  TEXT    NOT NULL,
              kind       TEXT    NOT NULL,
              job_id     TEXT,
              created_at INTEGER NOT NULL
            );
            CREATE INDEX worker_commands_worker ON worker_commands (worker_id);
            """),
        (2, """
            CREATE TABLE job_logs (
              job_seq INTEGER NOT NULL,
              attempt INTEGER NOT NULL,
              n       INTEGER NOT NULL,
              at      INTEGER NOT NULL,
              level   TEXT    NOT NULL,
              message TEXT    NOT NULL,
              PRIMARY KEY (job_seq, attempt, n)
            ) WITHOUT ROWID;
            """),
        (3, """
            -- One lease row per led name (maintenance); it lapses at expires_at unless its holder renews it.
            CREATE TABLE leaders (
              name       TEXT    PRIMARY KEY,
              holder     TEXT    NOT NULL,
              elected_at INTEGER NOT NULL,
              expires_at INTEGER NOT NULL
            );
            """),
        (4, """
            ALTER TABLE jobs ADD COLUMN checkpoint BLOB;
            ALTER TABLE jobs ADD COLUMN checkpoint_at INTEGER;
            ALTER TABLE jobs ADD COLUMN checkpoint_interval_ms INTEGER;
            CREATE TABLE queue_pauses (
              queue     TEXT PRIMARY KEY,
              paused_at INTEGER NOT NULL
            ) WITHOUT ROWID;
            """),
        (5, """
            -- A node publishes its managed worker processes (JSON) with its heartbeat.
            ALTER TABLE workers ADD COLUMN managed TEXT;
            """),
        (6, """
            -- Workflows: steps are jobs with a workflow, a step name and a count of dependencies not yet
            -- succeeded (null on plain jobs); edges link steps by row key. A workflow's state is derived.
            CREATE TABLE workflows (
              seq        INTEGER PRIMARY KEY,
              id         TEXT    NOT NULL UNIQUE,
              name       TEXT    NOT NULL,
              on_failure TEXT    NOT NULL,
              created_at INTEGER NOT NULL
            );
            ALTER TABLE jobs ADD COLUMN workflow_id TEXT;
            ALTER TABLE jobs ADD COLUMN step TEXT;
            ALTER TABLE jobs ADD COLUMN deps_left INTEGER;
            CREATE INDEX jobs_workflow ON jobs (workflow_id) WHERE workflow_id IS NOT NULL;
            CREATE TABLE job_dependencies (
              job_seq        INTEGER NOT NULL,
              depends_on_seq INTEGER NOT NULL,
              PRIMARY KEY (job_seq, depends_on_seq)
            ) WITHOUT ROWID;
            CREATE INDEX job_dependencies_parent ON job_dependencies (depends_on_seq);
            """),
        (7, """
            -- The W3C trace context of the span that enqueued a job: its attempts' spans are children of it.
            ALTER TABLE jobs ADD COLUMN trace_parent TEXT;
            ALTER TABLE jobs ADD COLUMN trace_state TEXT;
            """),
        (8, """
            -- Schedules (cron) and their fires. A fire's key is (schedule, fire_time): a second attempt at the same fire,
            -- by any process at any time, inserts nothing and so makes no job. fired_through is each schedule's cursor:
            -- every cron fire time up to it has been made or dropped (times are unix milliseconds).
            CREATE TABLE schedules (
              name          TEXT    PRIMARY KEY,
              cron          TEXT    NOT NULL,
              time_zone     TEXT    NOT NULL,
              type          TEXT    NOT NULL,
              payload       TEXT    NOT NULL,
              queue         TEXT    NOT NULL,
              priority      INTEGER NOT NULL,
              missed        TEXT    NOT NULL,
              max_catchup   INTEGER NOT NULL,
              timeout_ms    INTEGER,
              max_attempts  INTEGER NOT NULL,
              tags          TEXT,
              paused        INTEGER NOT NULL DEFAULT 0,
              origin        TEXT    NOT NULL,
              created_at    INTEGER NOT NULL,
              updated_at    INTEGER NOT NULL,
              fired_through INTEGER NOT NULL
            ) WITHOUT ROWID;
            CREATE TABLE schedule_fires (
              schedule   TEXT    NOT NULL,
              fire_time  INTEGER NOT NULL,
              job_id     TEXT    NOT NULL,
              created_at INTEGER NOT NULL,
              PRIMARY KEY (schedule, fire_time)
            ) WITHOUT ROWID;
            -- Per-queue, per-state retention of finished jobs (milliseconds; null: the default).
            CREATE TABLE queue_retention (
              queue        TEXT PRIMARY KEY,
              succeeded_ms INTEGER,
              dead_ms      INTEGER,
              cancelled_ms INTEGER
            ) WITHOUT ROWID;
            """),
        (9, """
            -- Flow control (docs/flow-control.md): a queue's limits, one row; the write lock serialises claims.
            CREATE TABLE queue_limits (
              queue          TEXT PRIMARY KEY,
              concurrency    INTEGER,
              per_key        INTEGER,
              rate_count     INTEGER,
              rate_window_ms INTEGER,
              updated_at     INTEGER NOT NULL,
              cursor_key     TEXT NOT NULL DEFAULT '' -- the key the per-key claim served last: it goes on from the next
            ) WITHOUT ROWID;
            -- Starts of rate-limited queues: one row per claim that started jobs, kept for one window.
            CREATE TABLE queue_starts (
              queue TEXT    NOT NULL,
              at    INTEGER NOT NULL,
              n     INTEGER NOT NULL
            );
            CREATE INDEX queue_starts_queue ON queue_starts (queue, at);
            ALTER TABLE jobs ADD COLUMN concurrency_key TEXT;
            ALTER TABLE jobs ADD COLUMN slot INTEGER;
            -- A running job of a limited queue holds a slot: the limited claim marks it (`slot`), and the partial index
            -- jobs_slots holds exactly the marked jobs while they run, so every transition out of running gives the slot back
            -- in its own statement, whatever the path. Jobs of queues without limits are never marked and add no entry.
            CREATE INDEX jobs_slots ON jobs (queue, concurrency_key) WHERE slot = 1 AND state = 'running';
            -- Uniqueness windows: the idempotency key holds until unique_until and while the job is in unique_while.
            ALTER TABLE jobs ADD COLUMN unique_until INTEGER;
            ALTER TABLE jobs ADD COLUMN unique_while TEXT; -- states, comma-separated
            -- Keys of claimable jobs, for the per-key claim's walk over distinct keys; jobs without a key add no entry.
            CREATE INDEX jobs_key_claim ON jobs (queue, concurrency_key, priority DESC, seq) WHERE state = 'queued' AND concurrency_key IS NOT NULL;
            """),
        (10, """
            -- A worker's or node's name for people (--name), shown beside its id; null when none was given.
            ALTER TABLE workers ADD COLUMN name TEXT;
            """),
        (11, """
            -- Counts per (queue, state), so that queue statistics cost O(queues) instead of a scan of every retained job
            -- (SqliteJobStore.Counts.cs). Queued and running are not kept: their partial indexes (jobs_claim, jobs_lease)
            -- count them from the backlog and the running set, so a claim (queued -> running) and a requeue pay nothing.
            -- The triggers count every other transition but the success (running -> succeeded), which the report batch
            -- counts once per queue. queue_finished holds entries into succeeded and dead per second, for the recent pace.
            -- A row trigger costs every row its statement updates a call (about 1.7 us, even when its WHEN is false), so the
            -- update trigger fires only on columns the claim and the success never set: every other transition sets one
            -- of them (the cancels set cancel_requested_at, a failure run_at, a retry max_attempts, a release deps_left;
            -- promotion and rescue name run_at = run_at for it). The contract test of every transition holds them to it.
            CREATE TABLE queue_counts (
              queue TEXT    NOT NULL,
              state TEXT    NOT NULL,
              n     INTEGER NOT NULL,
              PRIMARY KEY (queue, state)
            ) WITHOUT ROWID;
            CREATE TABLE queue_finished (
              queue TEXT    NOT NULL,
              state TEXT    NOT NULL,
              at_s  INTEGER NOT NULL, -- unix seconds
              n     INTEGER NOT NULL,
              PRIMARY KEY (queue, state, at_s)
            ) WITHOUT ROWID;
            INSERT INTO queue_counts (queue, state, n)
              SELECT queue, state, count(*) FROM jobs WHERE state NOT IN ('queued', 'running') GROUP BY queue, state;
            INSERT INTO queue_finished (queue, state, at_s, n)
              SELECT queue, state, finished_at / 1000, count(*) FROM jobs
              WHERE state IN ('succeeded', 'dead') AND finished_at >= (unixepoch() - 120) * 1000 GROUP BY 1, 2, 3;
            CREATE TRIGGER jobs_counts_inserted AFTER INSERT ON jobs WHEN NEW.state NOT IN ('queued', 'running')
            BEGIN
              INSERT INTO queue_counts (queue, state, n) VALUES (NEW.queue, NEW.state, 1)
                ON CONFLICT (queue, state) DO UPDATE SET n = n + 1;
            END;
            CREATE TRIGGER jobs_counts_deleted AFTER DELETE ON jobs WHEN OLD.state NOT IN ('queued', 'running')
            BEGIN
              UPDATE queue_counts SET n = n - 1 WHERE queue = OLD.queue AND state = OLD.state;
            END;
            CREATE TRIGGER jobs_counts_changed AFTER UPDATE OF run_at, cancel_requested_at, max_attempts, deps_left ON jobs
              WHEN OLD.state <> NEW.state
            BEGIN
              UPDATE queue_counts SET n = n - 1 WHERE queue = OLD.queue AND state = OLD.state;
              INSERT INTO queue_counts (queue, state, n) SELECT NEW.queue, NEW.state, 1 WHERE NEW.state NOT IN ('queued', 'running')
                ON CONFLICT (queue, state) DO UPDATE SET n = n + 1;
              INSERT INTO queue_finished (queue, state, at_s, n) SELECT NEW.queue, NEW.state, NEW.finished_at / 1000, 1
                WHERE NEW.state = 'dead' AND NEW.finished_at IS NOT NULL
                ON CONFLICT (queue, state, at_s) DO UPDATE SET n = n + 1;
            END;

            -- Tags by key and value, for the job list's tag filter: a page of a rare tag reads its entries, not the table.
            -- Jobs without tags add nothing.
            CREATE TABLE job_tags (
              key     TEXT    NOT NULL,
              value   TEXT    NOT NULL,
              job_seq INTEGER NOT NULL,
              PRIMARY KEY (key, value, job_seq)
            ) WITHOUT ROWID;
            INSERT OR IGNORE INTO job_tags (key, value, job_seq)
              SELECT t.key, t.value, jobs.seq FROM jobs, json_each(jobs.tags) AS t WHERE jobs.tags IS NOT NULL;
            CREATE TRIGGER jobs_tags_inserted AFTER INSERT ON jobs WHEN NEW.tags IS NOT NULL
            BEGIN
              INSERT OR IGNORE INTO job_tags (key, value, job_seq) SELECT key, value, NEW.seq FROM json_each(NEW.tags);
            END;
            CREATE TRIGGER jobs_tags_deleted AFTER DELETE ON jobs WHEN OLD.tags IS NOT NULL
            BEGIN
              DELETE FROM job_tags WHERE (key, value, job_seq) IN (SELECT key, value, OLD.seq FROM json_each(OLD.tags));
            END;

            -- The audit log: who did what to what, when (kept 90 days, pruned by the cleaner).
            CREATE TABLE audit_log (
              seq    INTEGER PRIMARY KEY,
              id     TEXT    NOT NULL UNIQUE,
              at     INTEGER NOT NULL,
              actor  TEXT    NOT NULL,
              action TEXT    NOT NULL,
              target TEXT    NOT NULL,
              count  INTEGER,
              detail TEXT
            );
            """),
        (12, """
            -- What each process-handler attempt consumed and how its program ended (a usage report, fenced like the others).
            CREATE TABLE job_usage (
              job_seq           INTEGER NOT NULL,
              attempt           INTEGER NOT NULL,
              worker_id         TEXT,
              outcome           TEXT    NOT NULL,
              cpu_seconds       REAL,
              peak_memory_bytes INTEGER,
              exit_code         INTEGER,
              signal            INTEGER,
              limit_hit         TEXT,
              PRIMARY KEY (job_seq, attempt)
            ) WITHOUT ROWID;
            -- A job's own process limits, tighter than its type's (JSON: memory_mb, cpu, processes); null for none.
            ALTER TABLE jobs ADD COLUMN limits TEXT;
            -- Alerts for webhooks, written before any delivery attempt: each occurrence (key) once; next_at null once settled.
            CREATE TABLE alert_outbox (
              id         TEXT    PRIMARY KEY,
              key        TEXT    NOT NULL UNIQUE,
              webhook    TEXT    NOT NULL,
              event      TEXT    NOT NULL,
              body       TEXT    NOT NULL,
              created_at INTEGER NOT NULL,
              attempts   INTEGER NOT NULL DEFAULT 0,
              next_at    INTEGER,
              settled_at INTEGER,
              delivered  INTEGER NOT NULL DEFAULT 0,
              last_error TEXT
            );
            CREATE INDEX alert_outbox_due ON alert_outbox (next_at) WHERE next_at IS NOT NULL;
            CREATE INDEX alert_outbox_settled ON alert_outbox (settled_at) WHERE settled_at IS NOT NULL;
            """),
        (13, """
            -- The job list's type filter and its search by type prefix walk a type's jobs newest first (the index ends in the
            -- row key, seq), and its search by idempotency key finds the key in any queue; jobs without a key add no entry.
            -- Neither column changes after the enqueue, so a claim or a completion writes neither index.
            CREATE INDEX jobs_type ON jobs (type);
            CREATE INDEX jobs_key ON jobs (idempotency_key) WHERE idempotency_key IS NOT NULL;
            """),
        (14, """
            -- A rate per concurrency key (docs/flow-control.md, "Rate limits"): at most key_rate_count starts of one key in
            -- any window of key_rate_window_ms. Each limited claim records its starts per key it served (jobs without a key
            -- as the key ''), kept for one window.
            ALTER TABLE queue_limits ADD COLUMN key_rate_count INTEGER;
            ALTER TABLE queue_limits ADD COLUMN key_rate_window_ms INTEGER;
            CREATE TABLE queue_key_starts (
              queue           TEXT    NOT NULL,
              concurrency_key TEXT    NOT NULL,
              at              INTEGER NOT NULL,
              n               INTEGER NOT NULL
            );
            CREATE INDEX queue_key_starts_key ON queue_key_starts (queue, concurrency_key, at);
            CREATE INDEX queue_key_starts_at ON queue_key_starts (queue, at);
            """),
        (15, """
            -- The slots of a queue limited without keys as a running total (docs/flow-control.md, "What counts"), so that its
            -- claims and successes write no index entry (the mark `slot` and jobs_slots stay for limits per key, whose claims
            -- count only the keys they walk). While such a limit stands, every running job of the queue holds a slot: the
            -- limit's setting counts the jobs running then, and only its limited claim (which adds its jobs) starts the
            -- queue's jobs. queue_limits.held is that count, exact at every commit (writes are serialized): the success is
            -- taken off by its report batch, once per queue; every other way out of running sets one of the columns the
            -- counting trigger fires on (migration 11; the give-back names run_at for it), and the trigger takes it off in the
            -- statement that moves the job. Running jobs are never deleted (the upkeep deletes only ended ones).
            ALTER TABLE queue_limits ADD COLUMN held INTEGER NOT NULL DEFAULT 0;
            DROP TRIGGER jobs_counts_changed;
            CREATE TRIGGER jobs_counts_changed AFTER UPDATE OF run_at, cancel_requested_at, max_attempts, deps_left ON jobs
              WHEN OLD.state <> NEW.state
            BEGIN
              UPDATE queue_counts SET n = n - 1 WHERE queue = OLD.queue AND state = OLD.state;
              INSERT INTO queue_counts (queue, state, n) SELECT NEW.queue, NEW.state, 1 WHERE NEW.state NOT IN ('queued', 'running')
                ON CONFLICT (queue, state) DO UPDATE SET n = n + 1;
              INSERT INTO queue_finished (queue, state, at_s, n) SELECT NEW.queue, NEW.state, NEW.finished_at / 1000, 1
                WHERE NEW.state = 'dead' AND NEW.finished_at IS NOT NULL
                ON CONFLICT (queue, state, at_s) DO UPDATE SET n = n + 1;
              UPDATE queue_limits SET held = held - 1
                WHERE OLD.state = 'running' AND queue = OLD.queue AND per_key IS NULL AND key_rate_count IS NULL;
            END;
            -- A live store's queues limited without keys: their running jobs become their total, and lose the mark.
            UPDATE queue_limits SET held = (SELECT count(*) FROM jobs AS j WHERE j.queue = queue_limits.queue AND j.state = 'running')
              WHERE per_key IS NULL AND key_rate_count IS NULL;
            UPDATE jobs SET slot = NULL WHERE slot = 1 AND state = 'running'
              AND queue IN (SELECT queue FROM queue_limits WHERE per_key IS NULL AND key_rate_count IS NULL);
            """),
        (16, """
            -- Jobs without a concurrency key in a queue limited per key take turns as one key (docs/flow-control.md,
            -- "Fairness"): the claim finds them over jobs_unkeyed_claim, however many keyed jobs come before them in the
            -- claim order. unkeyed_turn is 1 on the jobs without a key of queues limited per key that may still run: the
            -- insert of a job sets it (JobInsert asks queue_limits), and a limit's setting that turns the queue to or from per
            -- key sets or clears it on the queue's jobs (SqliteFlowLimits). Jobs of other queues add no entry.
            ALTER TABLE jobs ADD COLUMN unkeyed_turn INTEGER;
            CREATE INDEX jobs_unkeyed_claim ON jobs (queue, priority DESC, seq) WHERE state = 'queued' AND unkeyed_turn = 1;
            UPDATE jobs SET unkeyed_turn = 1 WHERE concurrency_key IS NULL AND state <> 'succeeded'
              AND queue IN (SELECT queue FROM queue_limits WHERE per_key IS NOT NULL OR key_rate_count IS NOT NULL);
            """),
    ];

    public static int LatestVersion => Migrations[^1].Version;
}
