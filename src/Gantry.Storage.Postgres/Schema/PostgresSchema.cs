using Gantry.Jobs;

namespace Gantry.Storage.Postgres;

/// <summary>
/// Versioned migrations, applied in order by <see cref="RelationalJobStore.MigrateAsync"/> under an
/// advisory lock, each in the transaction that records it in <c>gantry_migrations</c>. A store whose
/// version is newer than this code is refused rather than guessed at.
/// </summary>
internal static class PostgresSchema
{
    /// <summary>The counted state of queued and running jobs together (migration 15).</summary>
    public const string ActiveState = "active";

    public static readonly IReadOnlyList<(int Version, string Sql)> Migrations =
    [
        (1, """
            CREATE TABLE jobs (
              seq                   bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
              id                    uuid        NOT NULL UNIQUE,
              type                  text        NOT NULL,
              queue                 text        NOT NULL,
              state                 text        NOT NULL,
              priority              integer     NOT NULL DEFAULT 0,
              payload               text        NOT NULL,
              attempt               integer     NOT NULL DEFAULT 0,
              max_attempts          integer     NOT NULL,
              attempt_budget        integer     NOT NULL,
              timeout_ms            bigint,
              backoff_base_ms       bigint      NOT NULL,
              backoff_max_ms        bigint      NOT NULL,
              created_at            timestamptz NOT NULL,
              run_at                timestamptz,
              started_at            timestamptz,
              finished_at           timestamptz,
              worker_id             text,
              lease_until           timestamptz,
              idempotency_key       text,
              tags                  jsonb,
              required_capabilities text[],
              progress              double precision,
              progress_message      text,
              result                text,
              cancel_requested_at   timestamptz
            );
            -- The claim reads only queued rows, in priority then age order; the index stays small as finished jobs pile up.
            CREATE INDEX jobs_claim ON jobs (queue, priority DESC, seq) WHERE state = 'queued';
            CREATE INDEX jobs_due ON jobs (run_at) WHERE state = 'scheduled';
            CREATE INDEX jobs_lease ON jobs (lease_until) WHERE state = 'running';
            CREATE UNIQUE INDEX jobs_idempotency ON jobs (queue, idempotency_key) WHERE idempotency_key IS NOT NULL;

            CREATE TABLE job_errors (
              job_id     uuid        NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
              attempt    integer     NOT NULL,
              at         timestamptz NOT NULL,
              worker_id  text,
              kind       text        NOT NULL,
              error_type text,
              message    text        NOT NULL,
              stack      text,
              PRIMARY KEY (job_id, attempt)
            );

            CREATE TABLE workers (
              id           text PRIMARY KEY,
              host         text        NOT NULL,
              pid          integer     NOT NULL,
              version      text        NOT NULL,
              queues       jsonb       NOT NULL,
              capacity     integer     NOT NULL,
              job_types    jsonb,
              capabilities jsonb,
              tags         jsonb,
              state        text        NOT NULL,
              started_at   timestamptz NOT NULL,
              last_seen_at timestamptz NOT NULL,
              running_jobs integer     NOT NULL DEFAULT 0
            );

            CREATE TABLE worker_commands (
              seq        bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
              worker_id  text        NOT NULL,
              kind       text        NOT NULL,
              job_id     uuid,
              created_at timestamptz NOT NULL
            );
            CREATE INDEX worker_commands_worker ON worker_commands (worker_id);
            """),
        (2, """
            CREATE TABLE job_logs (
              job_id  uuid        NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
              attempt integer     NOT NULL,
              n       integer     NOT NULL,
              at      timestamptz NOT NULL,
              level   text        NOT NULL,
              message text        NOT NULL,
              PRIMARY KEY (job_id, attempt, n)
            );
            """),
        (3, """
            ALTER TABLE jobs ADD COLUMN checkpoint bytea;
            ALTER TABLE jobs ADD COLUMN checkpoint_at timestamptz;
            ALTER TABLE jobs ADD COLUMN checkpoint_interval_ms bigint;
            CREATE TABLE queue_pauses (
              queue     text PRIMARY KEY,
              paused_at timestamptz NOT NULL
            );
            """),
        (4, """
            -- The lease index no longer matches `state = 'running'`: with that predicate the planner, on
            -- statistics taken when few jobs ran, walked every running row to complete a batch by id.
            -- lease_until is set exactly while a job runs, so the rescuer's query still uses it.
            DROP INDEX jobs_lease;
            CREATE INDEX jobs_lease ON jobs (lease_until) WHERE lease_until IS NOT NULL;
            """),
        (5, """
            -- A node publishes its managed worker processes (JSON) with its heartbeat.
            ALTER TABLE workers ADD COLUMN managed jsonb;
            """),
        (6, """
            -- Workflows: steps are jobs with a workflow, a step name and a count of dependencies not yet
            -- succeeded (null on plain jobs); edges link steps by row key. A workflow's state is derived.
            CREATE TABLE workflows (
              seq        bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
              id         uuid        NOT NULL UNIQUE,
              name       text        NOT NULL,
              on_failure text        NOT NULL,
              created_at timestamptz NOT NULL
            );
            ALTER TABLE jobs ADD COLUMN workflow_id uuid;
            ALTER TABLE jobs ADD COLUMN step text;
            ALTER TABLE jobs ADD COLUMN deps_left integer;
            CREATE INDEX jobs_workflow ON jobs (workflow_id) WHERE workflow_id IS NOT NULL;
            -- No foreign keys: a check per edge would lock (and so write) both jobs' rows as a workflow is
            -- created; edges are written only with their steps, and the cleaner deletes them with them.
            CREATE TABLE job_dependencies (
              job_seq        bigint NOT NULL,
              depends_on_seq bigint NOT NULL,
              PRIMARY KEY (job_seq, depends_on_seq)
            );
            CREATE INDEX job_dependencies_parent ON job_dependencies (depends_on_seq);
            """),
        (7, """
            -- Every row version of a job wrote an entry into the seq primary key as well as into the id
            -- index (an update that changes state is never HOT): about a fifth of a claim's and of a
            -- completion's work. id (unique, not null) is now the only key of a plain job; seq still
            -- orders the claim (inside the claim index) and keys workflow steps, which keep an index on it.
            ALTER TABLE jobs DROP CONSTRAINT jobs_pkey;
            CREATE UNIQUE INDEX jobs_step_seq ON jobs (seq) WHERE workflow_id IS NOT NULL;
            ALTER TABLE jobs REPLICA IDENTITY USING INDEX jobs_id_key;
            """),
        (8, $"""
            -- Leases leave the jobs table. An index of running jobs (the lease index) cost every claim an entry,
            -- and any index whose key or predicate changes when a job finishes makes every completion write
            -- a new entry into every index of the table. Now a claim writes one lease record for all the jobs it
            -- took; a heartbeat replaces the worker's last record with one naming what it holds, and drops the
            -- claims it names as taken in; the rescuer reads expired records. (PostgresJobStore.Leases.cs.)
            CREATE TABLE job_leases (
              seq          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
              worker_id    text        NOT NULL,
              by_heartbeat boolean     NOT NULL,
              lease_until  timestamptz NOT NULL,
              jobs         uuid[]      NOT NULL,
              attempts     integer[]   NOT NULL
            );
            CREATE INDEX job_leases_worker ON job_leases (worker_id);
            -- A claim's record (16 bytes a job) is stored out of line: uncompressed, as ids barely compress.
            ALTER TABLE job_leases ALTER COLUMN jobs SET STORAGE EXTERNAL, ALTER COLUMN attempts SET STORAGE EXTERNAL;
            INSERT INTO job_leases (worker_id, by_heartbeat, lease_until, jobs, attempts)
              SELECT worker_id, true, lease_until, array_agg(id), array_agg(attempt) FROM jobs
              WHERE state = '{JobState.Running.ToText()}' AND lease_until IS NOT NULL AND worker_id IS NOT NULL
              GROUP BY worker_id, lease_until;
            DROP INDEX jobs_lease;
            -- The claim and due indexes no longer name state in their predicates but `waiting`, derived from it and
            -- null for every state after queued: running -> succeeded then changes no indexed value, so a
            -- completion is a heap-only (HOT) update, written on its page with no index entry at all. The fill
            -- factor leaves the room on each page for it.
            ALTER TABLE jobs ADD COLUMN waiting text GENERATED ALWAYS AS
              (CASE WHEN state IN ('{JobState.Queued.ToText()}', '{JobState.Scheduled.ToText()}') THEN state END) STORED;
            DROP INDEX jobs_claim;
            CREATE INDEX jobs_claim ON jobs (queue, priority DESC, seq) WHERE waiting = '{JobState.Queued.ToText()}';
            DROP INDEX jobs_due;
            CREATE INDEX jobs_due ON jobs (run_at) WHERE waiting = '{JobState.Scheduled.ToText()}';
            ALTER TABLE jobs SET (fillfactor = 70);
            """),
        (9, """
            -- A claimed row leaves its entry in the claim index until VACUUM removes it, and every claim walks from
            -- the head of the index over all such entries: 2,000,000 of them made a one-job claim take 12-20 ms
            -- instead of 0.4-0.9 ms (docs/benchmarks.md). Autovacuum's default waits until a fifth of the table is
            -- dead, which with a week of retained jobs is millions of claims; so it starts once 1% of the rows (at
            -- least 50,000 versions) are dead, and always cleans the indexes (by default it skips them when the dead
            -- versions sit on few of the table's pages: exactly the case of a busy queue in a long history).
            ALTER TABLE jobs SET (autovacuum_vacuum_scale_factor = 0.01, autovacuum_vacuum_threshold = 50000, vacuum_index_cleanup = on);
            """),
        (10, $"""
            -- The claim index leaves the table that keeps the history. A claim walks the entries of the jobs claimed
            -- since the last vacuum, and vacuuming jobs costs in proportion to everything retained; job_ready holds one
            -- narrow row per queued job (deleted by the claim that takes it), so its vacuum costs in proportion to the
            -- claims since the last one: 19 ms against 210 ms for jobs at 200,000 jobs, and it stays so as history grows.
            -- Triggers keep it in step with every transition into or out of queued (one place for all of them); the
            -- claim deletes its rows itself, so the claim's own update fires nothing.
            CREATE TABLE job_ready (
              queue                 text    NOT NULL,
              priority              integer NOT NULL,
              seq                   bigint  NOT NULL,
              job_id                uuid    NOT NULL,
              type                  text    NOT NULL,
              required_capabilities text[]
            );
            CREATE INDEX job_ready_claim ON job_ready (queue, priority DESC, seq);
            ALTER TABLE job_ready SET (autovacuum_vacuum_scale_factor = 0, autovacuum_vacuum_threshold = 5000, autovacuum_vacuum_cost_delay = 0);
            INSERT INTO job_ready (queue, priority, seq, job_id, type, required_capabilities)
              SELECT queue, priority, seq, id, type, required_capabilities FROM jobs WHERE state = '{JobState.Queued.ToText()}';

            -- The functions keep the store's schema as their search path (FROM CURRENT: the migration's), so an
            -- operator's statement on "<schema>".jobs from a session with another search path keeps job_ready in step too.
            CREATE FUNCTION gantry_ready_inserted() RETURNS trigger LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
            BEGIN
              INSERT INTO job_ready (queue, priority, seq, job_id, type, required_capabilities)
                SELECT queue, priority, seq, id, type, required_capabilities FROM inserted WHERE state = '{JobState.Queued.ToText()}';
              RETURN NULL;
            END $$;
            CREATE FUNCTION gantry_ready_changed() RETURNS trigger LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
            BEGIN
              IF TG_OP = 'UPDATE' AND NEW.state = '{JobState.Queued.ToText()}' THEN
                INSERT INTO job_ready (queue, priority, seq, job_id, type, required_capabilities)
                  VALUES (NEW.queue, NEW.priority, NEW.seq, NEW.id, NEW.type, NEW.required_capabilities);
              ELSE
                DELETE FROM job_ready WHERE queue = OLD.queue AND priority = OLD.priority AND seq = OLD.seq;
              END IF;
              RETURN NULL;
            END $$;
            -- Statement-level for inserts: an enqueue batch adds its ready rows in one statement.
            CREATE TRIGGER jobs_ready_inserted AFTER INSERT ON jobs REFERENCING NEW TABLE AS inserted
              FOR EACH STATEMENT EXECUTE FUNCTION gantry_ready_inserted();
            CREATE TRIGGER jobs_ready_changed AFTER UPDATE OF state ON jobs FOR EACH ROW
              WHEN ((OLD.state = '{JobState.Queued.ToText()}') <> (NEW.state = '{JobState.Queued.ToText()}')
                AND NOT (OLD.state = '{JobState.Queued.ToText()}' AND NEW.state = '{JobState.Running.ToText()}'))
              EXECUTE FUNCTION gantry_ready_changed();
            CREATE TRIGGER jobs_ready_deleted AFTER DELETE ON jobs FOR EACH ROW
              WHEN (OLD.state = '{JobState.Queued.ToText()}') EXECUTE FUNCTION gantry_ready_changed();

            -- The due index is keyed on a column a claim leaves unchanged (null before and after), and no index of jobs
            -- names the state any more: a claim, like a completion, can be a heap-only update.
            ALTER TABLE jobs ADD COLUMN due_at timestamptz GENERATED ALWAYS AS
              (CASE WHEN state = '{JobState.Scheduled.ToText()}' THEN run_at END) STORED;
            DROP INDEX jobs_claim;
            DROP INDEX jobs_due;
            ALTER TABLE jobs DROP COLUMN waiting;
            CREATE INDEX jobs_due ON jobs (due_at) WHERE due_at IS NOT NULL;
            """),
        (11, """
            -- The W3C trace context of the span that enqueued a job: its attempts' spans are children of it.
            ALTER TABLE jobs ADD COLUMN trace_parent text, ADD COLUMN trace_state text;
            """),
        (12, """
            -- Schedules (cron) and their fires. A fire's key is (schedule, fire_time): a second attempt at the same fire,
            -- by any process at any time, inserts nothing (ON CONFLICT DO NOTHING waits for a concurrent inserter) and so
            -- makes no job. fired_through is each schedule's cursor: every cron fire time up to it has been made or dropped.
            CREATE TABLE schedules (
              name          text        PRIMARY KEY,
              cron          text        NOT NULL,
              time_zone     text        NOT NULL,
              type          text        NOT NULL,
              payload       text        NOT NULL,
              queue         text        NOT NULL,
              priority      integer     NOT NULL,
              missed        text        NOT NULL,
              max_catchup   integer     NOT NULL,
              timeout_ms    bigint,
              max_attempts  integer     NOT NULL,
              tags          jsonb,
              paused        boolean     NOT NULL DEFAULT false,
              origin        text        NOT NULL,
              created_at    timestamptz NOT NULL,
              updated_at    timestamptz NOT NULL,
              fired_through timestamptz NOT NULL
            );
            CREATE TABLE schedule_fires (
              schedule   text        NOT NULL,
              fire_time  timestamptz NOT NULL,
              job_id     uuid        NOT NULL,
              created_at timestamptz NOT NULL,
              PRIMARY KEY (schedule, fire_time)
            );
            -- Per-queue, per-state retention of finished jobs (milliseconds; null: the default).
            CREATE TABLE queue_retention (
              queue        text PRIMARY KEY,
              succeeded_ms bigint,
              dead_ms      bigint,
              cancelled_ms bigint
            );
            """),
        (13, $"""
            -- Flow control (docs/flow-control.md). A queue's limits are one row; a limited claim locks it, so claims of one
            -- limited queue are serialised cluster-wide and each counts what the previous ones left.
            CREATE TABLE queue_limits (
              queue          text PRIMARY KEY,
              concurrency    integer,
              per_key        integer,
              rate_count     integer,
              rate_window_ms bigint,
              updated_at     timestamptz NOT NULL,
              cursor_key     text NOT NULL DEFAULT '' -- the key the per-key claim served last: it goes on from the next
            );
            -- One slot per running job of a limited queue: taken by the limited claim (which marks the job `slot`),
            -- given back on every transition out of running: by the completion statement for a success, by the trigger
            -- below for every other (failure, cancel, rescue, give-back), so no path can leak one. Jobs of queues without limits never have a slot and pay nothing.
            CREATE TABLE job_slots (
              job_id          uuid PRIMARY KEY,
              queue           text NOT NULL,
              concurrency_key text
            );
            CREATE INDEX job_slots_queue ON job_slots (queue, concurrency_key);
            ALTER TABLE job_slots SET (autovacuum_vacuum_scale_factor = 0, autovacuum_vacuum_threshold = 5000, autovacuum_vacuum_cost_delay = 0);
            -- Starts of rate-limited queues: one row per claim that started jobs, kept for one window.
            CREATE TABLE queue_starts (
              queue text        NOT NULL,
              at    timestamptz NOT NULL,
              n     integer     NOT NULL
            );
            CREATE INDEX queue_starts_queue ON queue_starts (queue, at);
            ALTER TABLE jobs ADD COLUMN concurrency_key text;
            ALTER TABLE jobs ADD COLUMN slot boolean;
            -- Uniqueness windows: the idempotency key holds until unique_until and while the job is in unique_while.
            ALTER TABLE jobs ADD COLUMN unique_until timestamptz;
            ALTER TABLE jobs ADD COLUMN unique_while text; -- states, comma-separated
            -- Keys of claimable jobs, for the per-key claim's walk over distinct keys; jobs without a key add no entry.
            ALTER TABLE job_ready ADD COLUMN concurrency_key text;
            CREATE INDEX job_ready_key ON job_ready (queue, concurrency_key, priority DESC, seq) WHERE concurrency_key IS NOT NULL;

            CREATE OR REPLACE FUNCTION gantry_ready_inserted() RETURNS trigger LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
            BEGIN
              INSERT INTO job_ready (queue, priority, seq, job_id, type, required_capabilities, concurrency_key)
                SELECT queue, priority, seq, id, type, required_capabilities, concurrency_key FROM inserted WHERE state = '{JobState.Queued.ToText()}';
              RETURN NULL;
            END $$;
            CREATE OR REPLACE FUNCTION gantry_ready_changed() RETURNS trigger LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
            BEGIN
              IF TG_OP = 'UPDATE' AND NEW.state = '{JobState.Queued.ToText()}' THEN
                INSERT INTO job_ready (queue, priority, seq, job_id, type, required_capabilities, concurrency_key)
                  VALUES (NEW.queue, NEW.priority, NEW.seq, NEW.id, NEW.type, NEW.required_capabilities, NEW.concurrency_key);
              ELSE
                DELETE FROM job_ready WHERE queue = OLD.queue AND priority = OLD.priority AND seq = OLD.seq;
              END IF;
              RETURN NULL;
            END $$;
            CREATE FUNCTION gantry_slot_freed() RETURNS trigger LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
            BEGIN
              DELETE FROM job_slots WHERE job_id = OLD.id;
              RETURN NULL;
            END $$;
            -- A success gives its slot back in the completion statement itself (one DELETE for the batch, not a call per row).
            CREATE TRIGGER jobs_slot_freed AFTER UPDATE OF state ON jobs FOR EACH ROW
              WHEN (OLD.slot AND NEW.state NOT IN ('{JobState.Running.ToText()}', '{JobState.Succeeded.ToText()}')) EXECUTE FUNCTION gantry_slot_freed();
            """),
        (14, """
            -- A worker's or node's name for people (--name), shown beside its id; null when none was given.
            ALTER TABLE workers ADD COLUMN name text;
            """),
        (15, $"""
            -- Counts per (queue, state), so that queue statistics cost O(queues) instead of a scan of every retained job
            -- (PostgresJobStore.Counts.cs). Writers never update a shared row: each transaction appends its changes to
            -- queue_count_deltas (no index, no conflict between concurrent report batches), and the maintenance leader's
            -- store upkeep folds them into queue_counts every round; a read sums both. Entries into succeeded and dead carry
            -- their time, folded into per-second rows of queue_finished for the recent pace.
            -- Queued and running are kept together as 'active' (queued is counted from job_ready, running is the rest), so a
            -- claim and a give-back count nothing; the triggers count every other transition but the success, which the
            -- completion statement counts with one row per queue (SucceedManySql), as 'done': active - n, succeeded + n.
            CREATE TABLE queue_counts (
              queue text   NOT NULL,
              state text   NOT NULL,
              n     bigint NOT NULL,
              PRIMARY KEY (queue, state)
            );
            CREATE TABLE queue_count_deltas (
              queue text        NOT NULL,
              state text        NOT NULL,
              n     bigint      NOT NULL,
              at    timestamptz -- when the job entered succeeded or dead; null otherwise
            );
            ALTER TABLE queue_count_deltas SET (autovacuum_vacuum_scale_factor = 0, autovacuum_vacuum_threshold = 5000, autovacuum_vacuum_cost_delay = 0);
            CREATE TABLE queue_finished (
              queue text        NOT NULL,
              state text        NOT NULL,
              at    timestamptz NOT NULL, -- a whole second
              n     bigint      NOT NULL,
              PRIMARY KEY (queue, state, at)
            );
            CREATE FUNCTION gantry_counted_state(state text) RETURNS text LANGUAGE sql IMMUTABLE AS
              $$ SELECT CASE WHEN state IN ('{JobState.Queued.ToText()}', '{JobState.Running.ToText()}') THEN '{ActiveState}' ELSE state END $$;
            INSERT INTO queue_counts (queue, state, n) SELECT queue, gantry_counted_state(state), count(*) FROM jobs GROUP BY 1, 2;
            INSERT INTO queue_finished (queue, state, at, n)
              SELECT queue, state, date_trunc('second', finished_at), count(*) FROM jobs
              WHERE state IN ('{JobState.Succeeded.ToText()}', '{JobState.Dead.ToText()}') AND finished_at >= now() - interval '2 minutes'
              GROUP BY 1, 2, 3;

            CREATE FUNCTION gantry_counts_inserted() RETURNS trigger LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
            BEGIN
              INSERT INTO queue_count_deltas (queue, state, n) SELECT queue, gantry_counted_state(state), count(*) FROM inserted GROUP BY 1, 2;
              RETURN NULL;
            END $$;
            CREATE FUNCTION gantry_counts_deleted() RETURNS trigger LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
            BEGIN
              INSERT INTO queue_count_deltas (queue, state, n) SELECT queue, gantry_counted_state(state), -count(*) FROM deleted GROUP BY 1, 2;
              RETURN NULL;
            END $$;
            CREATE FUNCTION gantry_counts_changed() RETURNS trigger LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
            BEGIN
              INSERT INTO queue_count_deltas (queue, state, n, at) VALUES (OLD.queue, gantry_counted_state(OLD.state), -1, NULL),
                (NEW.queue, gantry_counted_state(NEW.state), 1,
                 CASE WHEN NEW.state IN ('{JobState.Succeeded.ToText()}', '{JobState.Dead.ToText()}') THEN NEW.finished_at END);
              RETURN NULL;
            END $$;
            -- Statement-level for inserts and deletes: an enqueue batch or a cleaner's round appends one row per (queue, state).
            CREATE TRIGGER jobs_counts_inserted AFTER INSERT ON jobs REFERENCING NEW TABLE AS inserted
              FOR EACH STATEMENT EXECUTE FUNCTION gantry_counts_inserted();
            CREATE TRIGGER jobs_counts_deleted AFTER DELETE ON jobs REFERENCING OLD TABLE AS deleted
              FOR EACH STATEMENT EXECUTE FUNCTION gantry_counts_deleted();
            CREATE TRIGGER jobs_counts_changed AFTER UPDATE OF state ON jobs FOR EACH ROW
              WHEN (OLD.state <> NEW.state
                AND NOT (OLD.state IN ('{JobState.Queued.ToText()}', '{JobState.Running.ToText()}')
                  AND NEW.state IN ('{JobState.Queued.ToText()}', '{JobState.Running.ToText()}', '{JobState.Succeeded.ToText()}')))
              EXECUTE FUNCTION gantry_counts_changed();

            -- The job list's tag filter (tags @> a JSON object of the tags asked for): jobs without tags add no entry, and a claim
            -- or a completion, which leave tags unchanged, stay heap-only updates.
            CREATE INDEX jobs_tags ON jobs USING gin (tags jsonb_path_ops) WHERE tags IS NOT NULL;

            -- The audit log: who did what to what, when (kept 90 days, pruned by the cleaner). Ids are UUIDv7: newest last.
            CREATE TABLE audit_log (
              id     uuid        PRIMARY KEY,
              at     timestamptz NOT NULL,
              actor  text        NOT NULL,
              action text        NOT NULL,
              target text        NOT NULL,
              count  bigint,
              detail text
            );
            """),
        (16, """
            -- What each process-handler attempt consumed and how its program ended (a usage report, fenced like the others).
            CREATE TABLE job_usage (
              job_id            uuid             NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
              attempt           integer          NOT NULL,
              worker_id         text,
              outcome           text             NOT NULL,
              cpu_seconds       double precision,
              peak_memory_bytes bigint,
              exit_code         integer,
              signal            integer,
              limit_hit         text,
              PRIMARY KEY (job_id, attempt)
            );
            -- A job's own process limits, tighter than its type's (JSON: memory_mb, cpu, processes); null for none.
            ALTER TABLE jobs ADD COLUMN limits text;
            -- Alerts for webhooks, written before any delivery attempt: each occurrence (key) once; next_at null once settled.
            CREATE TABLE alert_outbox (
              id         uuid        PRIMARY KEY,
              key        text        NOT NULL UNIQUE,
              webhook    text        NOT NULL,
              event      text        NOT NULL,
              body       text        NOT NULL,
              created_at timestamptz NOT NULL,
              attempts   integer     NOT NULL DEFAULT 0,
              next_at    timestamptz,
              settled_at timestamptz,
              delivered  boolean     NOT NULL DEFAULT false,
              last_error text
            );
            CREATE INDEX alert_outbox_due ON alert_outbox (next_at) WHERE next_at IS NOT NULL;
            CREATE INDEX alert_outbox_settled ON alert_outbox (settled_at) WHERE settled_at IS NOT NULL;
            """),
        (17, """
            -- Flow-control slots as counts instead of a row per running job (docs/flow-control.md, "Cost"): per queue
            -- and concurrency key ('' for jobs without one), the slots held as of the queue's last limited claim.
            -- Whatever moves a slot-holding job out of running appends its change to queue_slot_deltas (the
            -- completion statement one row per queue and key of its batch, the trigger one per row): no index and no
            -- row shared between writers, so report batches never wait on each other for it. The limited claim, which
            -- holds the queue's lock anyway, deletes the queue's deltas and folds them into its counts with its own
            -- claims, in the same statement: the counts plus the deltas are exactly the slots held.
            CREATE TABLE queue_slots (
              queue           text   NOT NULL,
              concurrency_key text   NOT NULL,
              n               integer NOT NULL,
              PRIMARY KEY (queue, concurrency_key)
            );
            CREATE TABLE queue_slot_deltas (
              queue           text    NOT NULL,
              concurrency_key text    NOT NULL,
              n               integer NOT NULL
            );
            ALTER TABLE queue_slot_deltas SET (autovacuum_vacuum_scale_factor = 0, autovacuum_vacuum_threshold = 1000, autovacuum_vacuum_cost_delay = 0);
            INSERT INTO queue_slots (queue, concurrency_key, n)
              SELECT queue, coalesce(concurrency_key, ''), count(*) FROM job_slots GROUP BY 1, 2;
            CREATE OR REPLACE FUNCTION gantry_slot_freed() RETURNS trigger LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
            BEGIN
              INSERT INTO queue_slot_deltas (queue, concurrency_key, n) VALUES (OLD.queue, coalesce(OLD.concurrency_key, ''), -1);
              RETURN NULL;
            END $$;
            DROP TABLE job_slots;
            """),
        (18, """
            -- The job list's search by idempotency key finds the key in any queue; jobs without a key add no entry, and the
            -- key never changes after the enqueue: claims and completions stay heap-only updates. (An index on type would
            -- cost every enqueue and every update that is not heap-only an entry: 14% more WAL per job in a drain.)
            CREATE INDEX jobs_key ON jobs (idempotency_key) WHERE idempotency_key IS NOT NULL;
            """),
        (19, $"""
            -- The job types ever enqueued, in byte order: the job list's search asks whether a text starts any type before it
            -- walks the list for one (jobs has no type index: 14% more WAL per job in a drain). The insert trigger that counts
            -- an enqueue adds its new types (a type already here writes nothing); nothing removes one, so the set holds every
            -- retained job's type and perhaps some whose jobs are gone, which only costs such a search its walk.
            CREATE TABLE job_types (type text COLLATE "C" PRIMARY KEY);
            INSERT INTO job_types (type) SELECT DISTINCT type FROM jobs;
            CREATE OR REPLACE FUNCTION gantry_counts_inserted() RETURNS trigger LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
            BEGIN
              INSERT INTO queue_count_deltas (queue, state, n) SELECT queue, gantry_counted_state(state), count(*) FROM inserted GROUP BY 1, 2;
              INSERT INTO job_types (type) SELECT DISTINCT type FROM inserted ON CONFLICT DO NOTHING;
              RETURN NULL;
            END $$;
            """),
        (20, $"""
            -- Flow-control slots counted from the jobs themselves, as on SQLite: a job holds its slot exactly while it is
            -- running with the mark `slot`, and jobs_slots has an entry for each such job, so a limited claim counts a
            -- queue's slots, or one key's, over the index (docs/flow-control.md, "What counts"). Nothing is kept beside the
            -- jobs that a claim must fold or upsert per key, and no path out of running can leave a count behind. The
            -- index names no column an unlimited queue's job ever changes (its slot stays null), so claims and completions
            -- of unlimited queues stay heap-only updates.
            -- Every way out of running takes the mark off in the same update: a success in the completion statement, every
            -- other (failure, cancel, rescue, give-back) through this trigger, whose condition is false for unmarked jobs.
            DROP TRIGGER jobs_slot_freed ON jobs;
            CREATE OR REPLACE FUNCTION gantry_slot_freed() RETURNS trigger LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
            BEGIN
              NEW.slot := NULL;
              RETURN NEW;
            END $$;
            CREATE TRIGGER jobs_slot_freed BEFORE UPDATE OF state ON jobs FOR EACH ROW
              WHEN (OLD.slot AND NEW.slot AND NEW.state <> '{JobState.Running.ToText()}') EXECUTE FUNCTION gantry_slot_freed();
            -- A live store's slots: the counts (queue_slots plus queue_slot_deltas) were exactly the marked running jobs,
            -- and jobs that ended kept their mark; taking it off those leaves exactly the slots that were counted.
            UPDATE jobs SET slot = NULL WHERE slot AND state <> '{JobState.Running.ToText()}';
            CREATE INDEX jobs_slots ON jobs (queue, concurrency_key) WHERE slot;
            DROP TABLE queue_slots;
            DROP TABLE queue_slot_deltas;
            """),
        (21, """
            -- A rate per concurrency key (docs/flow-control.md, "Rate limits"): at most key_rate_count starts of one key in
            -- any window of key_rate_window_ms. Each limited claim records its starts per key it served (jobs without a key
            -- as the key ''), kept for one window; the claim reads a key's starts over (queue, concurrency_key, at).
            ALTER TABLE queue_limits ADD COLUMN key_rate_count integer, ADD COLUMN key_rate_window_ms bigint;
            CREATE TABLE queue_key_starts (
              queue           text        NOT NULL,
              concurrency_key text        NOT NULL,
              at              timestamptz NOT NULL,
              n               integer     NOT NULL
            );
            CREATE INDEX queue_key_starts_key ON queue_key_starts (queue, concurrency_key, at);
            CREATE INDEX queue_key_starts_at ON queue_key_starts (queue, at);
            """),
        (22, $"""
            -- The slots of a queue limited without keys as a running total (docs/flow-control.md, "What counts"), so that its
            -- claims and successes stay heap-only updates: each limit without keys has an epoch (from queue_limit_epochs, never
            -- reused), and a job its limited claim takes is stamped with it (jobs.held_epoch, in no index). queue_limits.held is
            -- the slots held as of the queue's last limited claim; whatever moves a stamped job out of running appends -1 for
            -- its epoch to queue_held_deltas (a success in the completion statement, one row per queue and epoch of its batch;
            -- every other way out through the trigger below), and the next limited claim, under the queue's lock, deletes the
            -- queue's deltas, adds those of its epoch and its own claims to the total, in the same statement. A limit set
            -- anew (or turned from per key) takes a fresh epoch and stamps the running jobs with it: a job that left running
            -- before that (its delta, of the old epoch, committed too late for the setting's statement to see) is neither
            -- stamped nor counted twice. The upkeep deletes deltas of epochs no limit has. Queues with limits per key keep
            -- the indexed mark `slot` (migration 20): each claim counts only the keys it walks.
            CREATE SEQUENCE queue_limit_epochs;
            ALTER TABLE queue_limits ADD COLUMN epoch bigint, ADD COLUMN held integer NOT NULL DEFAULT 0;
            ALTER TABLE jobs ADD COLUMN held_epoch bigint;
            CREATE TABLE queue_held_deltas (
              queue text    NOT NULL,
              epoch bigint  NOT NULL,
              n     integer NOT NULL
            );
            ALTER TABLE queue_held_deltas SET (autovacuum_vacuum_scale_factor = 0, autovacuum_vacuum_threshold = 1000, autovacuum_vacuum_cost_delay = 0);
            CREATE FUNCTION gantry_held_freed() RETURNS trigger LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
            BEGIN
              INSERT INTO queue_held_deltas (queue, epoch, n) VALUES (OLD.queue, OLD.held_epoch, -1);
              RETURN NULL;
            END $$;
            CREATE TRIGGER jobs_held_freed AFTER UPDATE OF state ON jobs FOR EACH ROW
              WHEN (OLD.held_epoch IS NOT NULL AND OLD.state = '{JobState.Running.ToText()}'
                AND NEW.state NOT IN ('{JobState.Running.ToText()}', '{JobState.Succeeded.ToText()}'))
              EXECUTE FUNCTION gantry_held_freed();
            CREATE TRIGGER jobs_held_deleted AFTER DELETE ON jobs FOR EACH ROW
              WHEN (OLD.held_epoch IS NOT NULL AND OLD.state = '{JobState.Running.ToText()}')
              EXECUTE FUNCTION gantry_held_freed();
            -- A live store's queues limited without keys: their marked running jobs become their total.
            UPDATE queue_limits SET epoch = nextval('queue_limit_epochs') WHERE per_key IS NULL AND key_rate_count IS NULL;
            UPDATE jobs AS j SET held_epoch = l.epoch, slot = NULL FROM queue_limits AS l
              WHERE j.slot AND l.epoch IS NOT NULL AND j.queue = l.queue;
            UPDATE queue_limits AS l SET held = c.n FROM (
                SELECT queue, held_epoch, count(*) AS n FROM jobs
                WHERE held_epoch IS NOT NULL AND state = '{JobState.Running.ToText()}' GROUP BY 1, 2) AS c
              WHERE c.queue = l.queue AND c.held_epoch = l.epoch;
            """),
        (23, """
            -- Concurrency keys compare byte by byte (collation "C"), not by the database's locale: the per-key claim walks
            -- the keys in order, a descent into job_ready_key and a count over jobs_slots per key it serves, and under a
            -- locale every comparison on the way was a strcoll (the profile of a per-key drain showed it). Keys are ids,
            -- not words: their order is now their UTF-8 bytes', the same as the SQLite store's. Only the indexes on the
            -- columns are rebuilt (the type is unchanged); the walk's cursor and the per-key starts take the same order.
            ALTER TABLE jobs ALTER COLUMN concurrency_key TYPE text COLLATE "C";
            ALTER TABLE job_ready ALTER COLUMN concurrency_key TYPE text COLLATE "C";
            ALTER TABLE queue_key_starts ALTER COLUMN concurrency_key TYPE text COLLATE "C";
            ALTER TABLE queue_limits ALTER COLUMN cursor_key TYPE text COLLATE "C";
            """),
        (24, $"""
            -- Jobs without a concurrency key in a queue limited per key take turns as one key (docs/flow-control.md,
            -- "Fairness"): their ready rows carry the key '' (no job has it: a key has at least one character), so the claim
            -- finds them in job_ready_key by one descent, however many keyed jobs come before them in the claim order. The
            -- triggers that add ready rows ask queue_limits; a limit's setting that turns the queue to or from per key re-keys
            -- its ready rows (PostgresFlowLimits), and the upkeep re-keys those that a transaction concurrent with such a
            -- setting added as the limits were before it (PostgresMaintenance). Other queues' jobs without a key add no entry.
            CREATE OR REPLACE FUNCTION gantry_ready_inserted() RETURNS trigger LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
            BEGIN
              INSERT INTO job_ready (queue, priority, seq, job_id, type, required_capabilities, concurrency_key)
                SELECT i.queue, i.priority, i.seq, i.id, i.type, i.required_capabilities,
                       coalesce(i.concurrency_key, CASE WHEN i.queue = ANY(k.queues) THEN '' END)
                FROM inserted AS i,
                     (SELECT array_agg(l.queue) AS queues FROM queue_limits AS l WHERE l.per_key IS NOT NULL OR l.key_rate_count IS NOT NULL) AS k
                WHERE i.state = '{JobState.Queued.ToText()}';
              RETURN NULL;
            END $$;
            CREATE OR REPLACE FUNCTION gantry_ready_changed() RETURNS trigger LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
            BEGIN
              IF TG_OP = 'UPDATE' AND NEW.state = '{JobState.Queued.ToText()}' THEN
                INSERT INTO job_ready (queue, priority, seq, job_id, type, required_capabilities, concurrency_key)
                  VALUES (NEW.queue, NEW.priority, NEW.seq, NEW.id, NEW.type, NEW.required_capabilities,
                          coalesce(NEW.concurrency_key, (SELECT ''::text FROM queue_limits AS l
                                                         WHERE l.queue = NEW.queue AND (l.per_key IS NOT NULL OR l.key_rate_count IS NOT NULL))));
              ELSE
                DELETE FROM job_ready WHERE queue = OLD.queue AND priority = OLD.priority AND seq = OLD.seq;
              END IF;
              RETURN NULL;
            END $$;
            UPDATE job_ready AS r SET concurrency_key = '' FROM queue_limits AS l
              WHERE r.concurrency_key IS NULL AND l.queue = r.queue AND (l.per_key IS NOT NULL OR l.key_rate_count IS NOT NULL);
            """),
    ];

    public static int LatestVersion => Migrations[^1].Version;
}
