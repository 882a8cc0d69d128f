// The dashboard's views. Each renders into `main` and returns a function that stops its live updates.
import { get, post, session, onOverview, url, ApiError } from './api.js';
import { chart, workflowGraph } from './svg.js';

const STATES = ['waiting', 'scheduled', 'queued', 'running', 'succeeded', 'dead', 'cancelled'];
const TERMINAL = new Set(['succeeded', 'dead', 'cancelled']);

// ---- small DOM helpers -------------------------------------------------------------------------------------------
export function h(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on') && typeof v === 'function') node.addEventListener(k.slice(2), v);
    else if (k === 'class') node.className = v;
    else node.setAttribute(k, v === true ? '' : v);
  }
  for (const c of children.flat(Infinity)) if (c !== undefined && c !== null && c !== false) node.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return node;
}

// Replaces a node's children, flattening arrays and leaving out null and false (as h does).
export function fill(node, ...children) {
  node.replaceChildren(...children.flat(Infinity).filter(c => c !== undefined && c !== null && c !== false));
  return node;
}

const badge = state => h('span', { class: `badge state-${state}`, 'data-state': state }, state);
const short = id => id ? id.slice(0, 8) + '…' + id.slice(-4) : '';
const n = v => (v ?? 0).toLocaleString('en');

export function age(seconds) {
  if (seconds === null || seconds === undefined) return '—';
  if (seconds < 1) return `${Math.round(seconds * 1000)} ms`;
  if (seconds < 90) return `${Math.round(seconds)} s`;
  if (seconds < 5400) return `${Math.round(seconds / 60)} min`;
  if (seconds < 172800) return `${(seconds / 3600).toFixed(1)} h`;
  return `${Math.round(seconds / 86400)} d`;
}
const since = at => at ? age((Date.now() - new Date(at).getTime()) / 1000) + ' ago' : '—';
const when = at => at ? h('time', { datetime: at, title: new Date(at).toLocaleString() }, since(at)) : '—';
function duration(from, to) {
  if (!from) return '—';
  return age(((to ? new Date(to) : new Date()).getTime() - new Date(from).getTime()) / 1000);
}

function progressBar(value, message) {
  // A job's progress is a percentage (0–100), as the API gives it.
  const pct = value === null || value === undefined ? null : Math.max(0, Math.min(100, value));
  const bar = h('div', { class: 'bar' });
  bar.style.width = `${pct ?? 0}%`;
  return h('div', { class: 'progress', 'data-progress': pct === null ? '' : pct.toFixed(1), title: message || '' },
    bar, h('span', { class: 'label' }, pct === null ? '' : `${pct.toFixed(0)}%`, message ? ` · ${message}` : ''));
}

function setProgress(node, value, message) {
  const fresh = progressBar(value, message);
  node.replaceWith(fresh);
  return fresh;
}

function notice(text, kind = 'error') {
  return h('p', { class: `notice ${kind}`, role: kind === 'error' ? 'alert' : 'status' }, text);
}

// An action button: shown only to a viewer who may act; the server refuses the others anyway (403).
function action(label, run, { danger = false, name } = {}) {
  if (!session.can_act) return null;
  const button = h('button', { class: danger ? 'danger' : '', 'data-action': name || label.toLowerCase() }, label);
  button.addEventListener('click', async () => {
    button.disabled = true;
    try {
      await run();
      flash(`${label}: done`, 'ok');
    } catch (err) {
      flash(`${label}: ${err.message}`, 'error');
    } finally {
      button.disabled = false;
    }
  });
  return button;
}

export function flash(text, kind = 'ok') {
  let box = document.getElementById('flash');
  if (!box) { box = h('div', { id: 'flash', role: 'status' }); document.body.append(box); }
  const item = h('div', { class: `flash ${kind}` }, text);
  box.append(item);
  setTimeout(() => item.remove(), 5000);
}

// A header takes its column's alignment: right over numbers (the first row's cells say which columns hold them).
function table(head, rows, cls = '') {
  const first = rows[0]?.children;
  const th = (c, i) => h('th', first?.[i]?.classList.contains('num') ? { class: 'num' } : {}, c);
  return h('table', { class: cls }, h('thead', {}, h('tr', {}, head.map(th))), h('tbody', {}, rows));
}

function pre(value, hidden) {
  if (hidden) return h('p', { class: 'muted', 'data-hidden': 'payload' }, 'hidden (this session may not see payloads and results)');
  if (value === undefined || value === null) return h('p', { class: 'muted' }, '—');
  return h('pre', { class: 'json' }, JSON.stringify(value, null, 2));
}

// ---- Overview ----------------------------------------------------------------------------------------------------
let early = null;

// A queue's flow limits in a few words: "concurrency 10 · per key 2 · 100/s · 4 held back".
function limitsText(l) {
  return [l.concurrency != null ? `concurrency ${l.concurrency}` : null, l.per_key != null ? `per key ${l.per_key}` : null,
    l.rate ? `rate ${l.rate}` : null, l.rate_per_key ? `rate per key ${l.rate_per_key}` : null, l.held_back ? `${n(l.held_back)} held back` : null,
    l.keys_at_limit ? `${n(l.keys_at_limit)} ${l.keys_at_limit === 1 ? 'key' : 'keys'} at the limit` : null].filter(Boolean).join(' · ');
}

// Asked for before the session is read (in parallel with it), so that the first view waits for one round trip, not two.
export function prefetchOverview() {
  early = get('api/v1/overview');
  early.catch(() => {});
}

let firstView = false;

export async function overview(main) {
  fill(main, h('h1', {}, 'Overview'), h('p', { class: 'muted' }, 'Loading…'));
  const render = data => {
    const attention = data.attention.length
      ? h('ul', { class: 'attention' }, data.attention.map(a => h('li', { class: `attn-${a.kind}` },
          a.queue ? h('a', { href: a.kind === 'dead_jobs' ? `#/jobs?state=dead&queue=${encodeURIComponent(a.queue)}` : `#/jobs?queue=${encodeURIComponent(a.queue)}` }, a.message)
          : a.worker ? h('a', { href: '#/workers' }, a.message) : a.message)))
      : h('p', { class: 'ok-line' }, 'Nothing needs attention.');
    const queues = table(['Queue', ...STATES, 'done/min', 'failed/min', 'oldest queued', ''],
      data.queues.map(q => h('tr', { 'data-queue': q.name },
        h('td', {}, h('a', { href: `#/jobs?queue=${encodeURIComponent(q.name)}` }, q.name), q.paused ? h('span', { class: 'badge paused' }, 'paused') : null,
          q.limits ? h('div', { class: 'muted small limits' }, limitsText(q.limits),
            q.limits.per_key != null || q.limits.rate_per_key ? [' · ', h('a', { href: `#/queues/${encodeURIComponent(q.name)}/keys${q.limits.keys_at_limit ? '?at_limit=true' : ''}`, class: 'keys-link' }, 'keys')] : null) : null),
        STATES.map(s => h('td', { class: `num count-${s}` }, q.counts[s] ? h('a', { href: `#/jobs?queue=${encodeURIComponent(q.name)}&state=${s}` }, n(q.counts[s])) : '0')),
        h('td', { class: 'num' }, n(q.done_per_minute)),
        h('td', { class: 'num' + (q.failed_per_minute ? ' bad' : '') }, n(q.failed_per_minute)),
        h('td', { class: 'num' }, age(q.oldest_queued_age_seconds)),
        h('td', {}, q.paused
          ? action('Resume', async () => { await post(`api/v1/queues/${encodeURIComponent(q.name)}/resume`); }, { name: 'resume-queue' })
          : action('Pause', async () => { await post(`api/v1/queues/${encodeURIComponent(q.name)}/pause`); }, { name: 'pause-queue' })))),
      'queues');
    const w = data.workers;
    const pct = w.capacity ? Math.round((w.capacity_used / w.capacity) * 100) : 0;
    const series = data.series;
    fill(main, 
      h('h1', {}, 'Overview'),
      h('section', { class: 'cards' },
        h('div', { class: 'card' }, h('div', { class: 'big' }, n(w.live)), h('div', {}, 'live workers')),
        h('div', { class: 'card' }, h('div', { class: 'big' }, n(w.nodes)), h('div', {}, 'nodes')),
        h('div', { class: 'card' }, h('div', { class: 'big' }, `${n(w.capacity_used)} / ${n(w.capacity)}`), h('div', {}, `capacity used (${pct}%)`)),
        h('div', { class: 'card' }, h('div', { class: 'big' }, n(data.queues.reduce((a, q) => a + q.done_per_minute, 0))), h('div', {}, 'done in the last minute')),
        h('div', { class: 'card' }, h('div', { class: 'big' + (data.queues.some(q => q.failed_per_minute) ? ' bad' : '') }, n(data.queues.reduce((a, q) => a + q.failed_per_minute, 0))), h('div', {}, 'failed in the last minute'))),
      h('h2', {}, 'Needs attention'), attention,
      h('h2', {}, 'Queues'), data.queues.length ? queues : h('p', { class: 'muted' }, 'No queue has jobs yet.'),
      h('h2', {}, 'The last hour'),
      h('section', { class: 'charts' },
        chart('Throughput (succeeded per minute)', series.map(p => ({ at: p.at, value: p.succeeded })), { cls: 'throughput' }),
        chart('Failures (dead per minute)', series.map(p => ({ at: p.at, value: p.failed })), { cls: 'failures' }),
        chart('Queue wait (oldest queued job)', series.map(p => ({ at: p.at, value: p.queue_wait_seconds })), { kind: 'line', cls: 'wait', unit: 's' })),
      h('h2', {}, 'Workers and nodes'),
      w.items.length ? workerTable(w.items, false) : h('p', { class: 'muted' }, 'No live worker.'),
      h('p', { class: 'muted small' }, `as of ${new Date(data.at).toLocaleTimeString()}`));
    if (!firstView) { firstView = true; performance.mark('gantry-first-view'); }
  };
  try {
    const first = early;
    early = null;
    render(await (first ?? get('api/v1/overview')).catch(() => get('api/v1/overview')));
  } catch (err) {
    fill(main, h('h1', {}, 'Overview'), notice(err.message));
  }
  return onOverview(render);
}

// ---- Jobs --------------------------------------------------------------------------------------------------------
export async function jobs(main, params) {
  const filter = {
    state: params.get('state') || '', queue: params.get('queue') || '', type: params.get('type') || '',
    tag: params.getAll('tag'), concurrency_key: params.get('concurrency_key') || '', search: params.get('search') || '',
    cursor: params.get('cursor') || '',
  };
  const form = h('form', { class: 'filters', id: 'job-filters' },
    h('label', {}, 'State ', h('select', { name: 'state' }, h('option', { value: '' }, 'any'), STATES.map(s => h('option', { value: s, selected: s === filter.state }, s)))),
    h('label', {}, 'Queue ', h('input', { name: 'queue', value: filter.queue, size: 10 })),
    h('label', {}, 'Type ', h('input', { name: 'type', value: filter.type, size: 10 })),
    h('label', {}, 'Tag ', h('input', { name: 'tag', value: filter.tag.join(' '), placeholder: 'key=value', size: 14 })),
    h('label', {}, 'Key ', h('input', { name: 'concurrency_key', value: filter.concurrency_key, placeholder: 'concurrency key', size: 14 })),
    h('label', {}, 'Search ', h('input', { name: 'search', value: filter.search, placeholder: 'id, type or idempotency key', size: 26 })),
    h('button', { type: 'submit' }, 'Filter'));
  form.addEventListener('submit', e => {
    e.preventDefault();
    const data = new FormData(form);
    // A job id opens the job itself.
    const search = String(data.get('search') || '').trim();
    if (/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(search)) { location.hash = `#/jobs/${search.toLowerCase()}`; return; }
    const q = new URLSearchParams();
    for (const k of ['state', 'queue', 'type', 'concurrency_key', 'search']) if (data.get(k)) q.set(k, data.get(k).trim());
    for (const t of String(data.get('tag') || '').split(/\s+/).filter(Boolean)) q.append('tag', t);
    location.hash = `#/jobs${q.size ? '?' + q : ''}`;
  });
  const body = h('div', {}, h('p', { class: 'muted' }, 'Loading…'));
  fill(main, h('h1', {}, 'Jobs'), form, body);
  const load = async () => {
    const query = {
      state: filter.state, queue: filter.queue, type: filter.type, tag: filter.tag, concurrency_key: filter.concurrency_key, search: filter.search,
      cursor: filter.cursor, limit: 50,
    };
    let page;
    try {
      page = await get('api/v1/jobs', query);
    } catch (err) {
      body.replaceChildren(notice(err instanceof ApiError && err.field && ['tag', 'search', 'concurrency_key'].includes(err.field)
        ? `${err.message} (filtering by ${err.field} is not available on this server)` : err.message));
      return;
    }
    const rows = page.jobs.map(j => h('tr', { 'data-job': j.id },
      h('td', {}, h('a', { href: `#/jobs/${j.id}`, class: 'mono' }, short(j.id))),
      h('td', {}, j.type), h('td', {}, j.queue), h('td', {}, badge(j.state)),
      h('td', { class: 'num' }, `${j.attempt}/${j.max_attempts}`),
      h('td', {}, j.state === 'running' ? progressBar(j.progress, j.progress_message) : ''),
      h('td', {}, when(j.created_at)),
      h('td', { class: 'tags' }, Object.entries(j.tags || {}).map(([k, v]) => h('a', { class: 'tag', href: `#/jobs?tag=${encodeURIComponent(k + '=' + v)}` }, `${k}=${v}`)))));
    const next = new URLSearchParams(location.hash.split('?')[1] || '');
    next.set('cursor', page.next_cursor || '');
    const first = new URLSearchParams(location.hash.split('?')[1] || '');
    first.delete('cursor');
    body.replaceChildren(
      page.jobs.length ? table(['Id', 'Type', 'Queue', 'State', 'Attempt', 'Progress', 'Created', 'Tags'], rows, 'jobs') : h('p', { class: 'muted' }, 'No job matches.'),
      h('p', { class: 'pager' },
        filter.cursor ? h('a', { href: `#/jobs${first.size ? '?' + first : ''}` }, '« Newest') : null, ' ',
        page.next_cursor ? h('a', { href: `#/jobs?${next}`, id: 'next-page' }, 'Older »') : null));
  };
  await load();
  // Live: the first page follows changes in the queues' counts (at most once a second); an older page stays put.
  let lastKey = null, pending = false;
  return onOverview(o => {
    const key = JSON.stringify(o.queues.map(q => q.counts));
    if (filter.cursor || key === lastKey || pending) { lastKey = key; return; }
    lastKey = key;
    pending = true;
    load().finally(() => { pending = false; });
  });
}

// ---- Job ---------------------------------------------------------------------------------------------------------
// What a process handler's attempt consumed and how its program ended (the job's `attempts`), as `jobs show` says it.
function usageOf(j, attempt) {
  const u = (j.attempts || []).find(x => x.attempt === attempt)?.usage;
  if (!u) return null;
  const parts = [];
  if (u.cpu_seconds != null) parts.push(`cpu ${u.cpu_seconds.toFixed(2)} s`);
  if (u.peak_memory_bytes != null) parts.push(`peak memory ${(u.peak_memory_bytes / 1048576).toFixed(1)} MiB`);
  parts.push(u.outcome === 'exited' ? `exited with code ${u.exit_code}` : u.outcome === 'signaled' ? `killed by signal ${u.signal}`
    : u.outcome === 'limit_hit' ? `limit hit: ${u.limit}` : u.outcome);
  return parts.join(', ');
}

function submitCommand(j) {
  const quote = s => `'${String(s).replace(/'/g, `'\\''`)}'`;
  const parts = ['gantry', 'submit', j.type];
  if (j.payload !== null && j.payload !== undefined) parts.push(quote(JSON.stringify(j.payload)));
  if (j.queue !== 'default') parts.push('--queue', j.queue);
  if (j.priority) parts.push('--priority', j.priority);
  if (j.max_attempts) parts.push('--max-attempts', j.max_attempts);
  if (j.timeout_seconds) parts.push('--timeout', `${j.timeout_seconds}s`);
  if (j.concurrency_key) parts.push('--concurrency-key', quote(j.concurrency_key));
  if (j.tags && Object.keys(j.tags).length) parts.push('--tags', quote(Object.entries(j.tags).map(([k, v]) => `${k}=${v}`).join(',')));
  if (j.required_capabilities?.length) parts.push('--require', j.required_capabilities.join(','));
  return parts.join(' ');
}

export async function job(main, id) {
  let source = null;
  let current = null;
  const render = async () => {
    const [j, logs] = await Promise.all([get(`api/v1/jobs/${id}`), get(`api/v1/jobs/${id}/logs`).catch(() => [])]);
    current = j;
    const hidden = session.hide_payloads;
    const byAttempt = new Map();
    for (const l of logs) {
      if (!byAttempt.has(l.attempt)) byAttempt.set(l.attempt, []);
      byAttempt.get(l.attempt).push(l);
    }
    // Every attempt: the failed ones from their errors (worker, time, error, stack), the current one from the job.
    const attempts = [];
    for (let a = 1; a <= j.attempt; a++) {
      const err = (j.errors || []).find(e => e.attempt === a);
      const isLast = a === j.attempt;
      const prev = (j.errors || []).find(e => e.attempt === a - 1);
      attempts.push({
        attempt: a, worker: err?.worker_id ?? (isLast ? j.worker_id : null),
        started: isLast ? j.started_at : null, ended: err?.at ?? (isLast ? j.finished_at : null), from: prev?.at, err,
        outcome: err ? err.kind : isLast ? j.state : '',
      });
    }
    const progress = progressBar(j.progress, j.progress_message);
    progress.id = 'job-progress';
    const actions = h('div', { class: 'actions' },
      !TERMINAL.has(j.state) ? action('Cancel', async () => { await post(`api/v1/jobs/${id}/cancel`); await render(); }, { danger: true, name: 'cancel' }) : null,
      j.state === 'dead' || j.state === 'cancelled' ? action('Retry', async () => { await post(`api/v1/jobs/${id}/retry`); await render(); follow(); }, { name: 'retry' }) : null,
      hidden ? null : h('button', { 'data-action': 'copy-submit', onclick: async e => {
        const text = submitCommand(j);
        try { await navigator.clipboard.writeText(text); flash('copied: ' + text); } catch { flash(text); }
        e.target.closest('.actions').querySelector('code.cmd')?.remove();
        e.target.closest('.actions').append(h('code', { class: 'cmd' }, text));
      } }, 'Copy as gantry submit'));
    fill(main, 
      h('h1', {}, `Job `, h('span', { class: 'mono' }, j.id), ' ', h('span', { id: 'job-state' }, badge(j.state))),
      actions,
      h('dl', { class: 'facts' },
        h('dt', {}, 'Type'), h('dd', {}, j.type),
        h('dt', {}, 'Queue'), h('dd', {}, h('a', { href: `#/jobs?queue=${encodeURIComponent(j.queue)}` }, j.queue)),
        h('dt', {}, 'Priority'), h('dd', {}, j.priority),
        h('dt', {}, 'Attempt'), h('dd', { id: 'job-attempt' }, `${j.attempt} of ${j.max_attempts}`),
        h('dt', {}, 'Progress'), h('dd', {}, progress),
        h('dt', {}, 'Created'), h('dd', {}, when(j.created_at)),
        j.run_at ? [h('dt', {}, 'Run at'), h('dd', {}, new Date(j.run_at).toLocaleString())] : null,
        h('dt', {}, 'Started'), h('dd', {}, when(j.started_at)),
        h('dt', {}, 'Finished'), h('dd', {}, when(j.finished_at)),
        h('dt', {}, 'Worker'), h('dd', {}, j.worker_id ? h('a', { href: '#/workers' }, j.worker_id) : '—'),
        h('dt', {}, 'Checkpoint'), h('dd', {}, j.checkpoint_size != null ? `${n(j.checkpoint_size)} bytes, ${since(j.checkpoint_at)}` : '—'),
        h('dt', {}, 'Tags'), h('dd', { class: 'tags' }, Object.entries(j.tags || {}).map(([k, v]) => h('a', { class: 'tag', href: `#/jobs?tag=${encodeURIComponent(k + '=' + v)}` }, `${k}=${v}`)), Object.keys(j.tags || {}).length ? null : '—'),
        j.idempotency_key ? [h('dt', {}, 'Idempotency key'), h('dd', { class: 'mono', id: 'job-idempotency-key' }, j.idempotency_key,
          j.unique_until || j.unique_while ? h('span', { class: 'muted' }, [j.unique_until ? ` until ${new Date(j.unique_until).toLocaleString()}` : '',
            j.unique_while ? ` while ${j.unique_while.join(' or ')}` : ''].join('')) : null)] : null,
        j.concurrency_key ? [h('dt', {}, 'Concurrency key'), h('dd', { class: 'mono', id: 'job-concurrency-key' },
          h('a', { href: `#/jobs?queue=${encodeURIComponent(j.queue)}&concurrency_key=${encodeURIComponent(j.concurrency_key)}`, title: "this key's jobs" }, j.concurrency_key))] : null,
        j.workflow_id ? [h('dt', {}, 'Workflow'), h('dd', {}, h('a', { href: `#/workflows/${j.workflow_id}`, id: 'job-workflow' }, `step ${j.step} of ${short(j.workflow_id)}`))] : null,
        j.trace_id ? [h('dt', {}, 'Trace'), h('dd', { class: 'mono' }, j.trace_id)] : null),
      h('div', { class: 'two' },
        h('section', {}, h('h2', {}, 'Payload'), pre(j.payload, hidden)),
        h('section', {}, h('h2', {}, 'Result'), pre(j.result, hidden && TERMINAL.has(j.state)))),
      h('h2', {}, 'Attempts'),
      attempts.length ? attempts.reverse().map(a => h('section', { class: 'attempt', 'data-attempt': a.attempt },
        h('h3', {}, `Attempt ${a.attempt}`, ' ', a.outcome ? badge(a.outcome) : null),
        h('p', { class: 'muted' }, `worker ${a.worker || '—'}`, a.started ? ` · started ${new Date(a.started).toLocaleTimeString()} · ran ${duration(a.started, a.ended)}` : a.ended ? ` · ended ${new Date(a.ended).toLocaleTimeString()}${a.from ? ` (${duration(a.from, a.ended)} after the attempt before ended)` : ''}` : ''),
        usageOf(j, a.attempt) ? h('p', { class: 'usage', 'data-usage': a.attempt }, usageOf(j, a.attempt)) : null,
        a.err ? h('div', { class: 'error' }, h('strong', {}, a.err.type ? `${a.err.type}: ` : ''), a.err.message, a.err.stack_trace ? h('details', {}, h('summary', {}, 'stack'), h('pre', {}, a.err.stack_trace)) : null) : null,
        byAttempt.get(a.attempt)?.length ? h('details', { open: a.attempt === j.attempt }, h('summary', {}, `logs (${byAttempt.get(a.attempt).length})`),
          h('pre', { class: 'logs' }, byAttempt.get(a.attempt).map(l => `${new Date(l.at).toLocaleTimeString()} ${l.level.padEnd(5)} ${l.message}\n`).join(''))) : null))
        : h('p', { class: 'muted' }, 'Not started yet.'));
  };
  // Live: the job's own event stream moves the progress bar and, on a change of state or attempt, reads the job again.
  const follow = () => {
    source?.close();
    if (current && TERMINAL.has(current.state)) return;
    source = new EventSource(url(`api/v1/jobs/${id}/events`), { withCredentials: true });
    source.addEventListener('job', e => {
      const ev = JSON.parse(e.data);
      const bar = document.getElementById('job-progress');
      if (bar) setProgress(bar, ev.progress, ev.message).id = 'job-progress';
      if (current && (ev.state !== current.state || ev.attempt !== current.attempt)) render().catch(() => {});
      if (TERMINAL.has(ev.state)) source.close();
    });
  };
  try {
    await render();
  } catch (err) {
    fill(main, h('h1', {}, 'Job'), notice(err.message));
    return () => {};
  }
  follow();
  return () => source?.close();
}

// ---- Workflows ---------------------------------------------------------------------------------------------------
export async function workflows(main, params) {
  const cursor = params.get('cursor') || '';
  const page = await get('api/v1/workflows', { limit: 50, cursor });
  fill(main, h('h1', {}, 'Workflows'),
    page.workflows.length ? table(['Name', 'State', 'Steps', 'Unfinished', 'Succeeded', 'Dead', 'Cancelled', 'Created'],
      page.workflows.map(w => h('tr', { 'data-workflow': w.id },
        h('td', {}, h('a', { href: `#/workflows/${w.id}` }, w.name)), h('td', {}, badge(w.state)),
        h('td', { class: 'num' }, w.steps), h('td', { class: 'num' }, w.unfinished), h('td', { class: 'num' }, w.succeeded),
        h('td', { class: 'num' }, w.dead), h('td', { class: 'num' }, w.cancelled), h('td', {}, when(w.created_at))))) : h('p', { class: 'muted' }, 'No workflow yet.'),
    page.next_cursor ? h('p', { class: 'pager' }, h('a', { href: `#/workflows?cursor=${page.next_cursor}` }, 'Older »')) : null);
  return () => {};
}

export async function workflow(main, id) {
  let w = await get(`api/v1/workflows/${id}`);
  const graph = workflowGraph(w.steps, s => { location.hash = `#/jobs/${s.job_id}`; });
  const state = h('span', { id: 'workflow-state' }, badge(w.state));
  const actions = h('div', { class: 'actions' });
  const renderActions = () => actions.replaceChildren(...[w.state === 'running' ? action('Cancel workflow', async () => { await post(`api/v1/workflows/${id}/cancel`); }, { danger: true, name: 'cancel-workflow' }) : null].filter(Boolean));
  renderActions();
  const stepRows = h('tbody');
  const renderSteps = () => stepRows.replaceChildren(...w.steps.map(s => h('tr', { 'data-step': s.name },
    h('td', {}, h('a', { href: `#/jobs/${s.job_id}` }, s.name)), h('td', {}, s.type), h('td', {}, badge(s.state)),
    h('td', {}, s.depends_on.join(', ') || '—'), h('td', { class: 'num' }, s.attempt), h('td', {}, duration(s.started_at, s.finished_at)))));
  renderSteps();
  fill(main, 
    h('h1', {}, `Workflow ${w.name} `, state),
    h('p', { class: 'muted' }, h('span', { class: 'mono' }, w.id), ` · on failure: ${w.on_failure} · created ${since(w.created_at)}`),
    actions,
    h('div', { class: 'graph-box' }, graph),
    h('h2', {}, 'Steps'),
    h('table', {}, h('thead', {}, h('tr', {}, ['Step', 'Type', 'State', 'Depends on', 'Attempt', 'Duration'].map(c => h('th', {}, c)))), stepRows));
  // Live: read the workflow again whenever the queues' counts move (one request per change, at most once a second).
  let lastKey = null, busy = false;
  return onOverview(async o => {
    const key = JSON.stringify(o.queues.map(q => q.counts));
    if (key === lastKey || busy) return;
    lastKey = key;
    busy = true;
    try {
      w = await get(`api/v1/workflows/${id}`);
      graph.update(w.steps);
      if (state.textContent !== w.state) { state.replaceChildren(badge(w.state)); renderActions(); }
      renderSteps();
    } catch { /* the next tick tries again */ } finally { busy = false; }
  });
}

// ---- Workers and nodes -------------------------------------------------------------------------------------------
function workerTable(items, actionsWanted) {
  const withActions = actionsWanted && session.can_act;
  return table(['Worker', 'State', 'Capacity used', 'Running', 'Queues', 'Capabilities', 'Heartbeat', withActions ? '' : null].filter(x => x !== null),
    items.map(w => [
      h('tr', { 'data-worker': w.id },
        h('td', {}, h('span', { class: 'mono' }, w.id), h('div', { class: 'muted small' }, `${w.host} pid ${w.pid}${w.version ? ' · ' + w.version : ''}${w.managed ? ' · node' : ''}`)),
        h('td', {}, badge(w.state)),
        h('td', {}, progressBar(w.capacity ? (w.capacity_used / w.capacity) * 100 : 0, `${w.capacity_used}/${w.capacity}`)),
        h('td', {}, w.running_job_ids.slice(0, 5).map(j => h('a', { href: `#/jobs/${j}`, class: 'mono small block' }, short(j))), w.running_job_ids.length > 5 ? `+${w.running_job_ids.length - 5}` : null),
        h('td', {}, Object.entries(w.queues).map(([q, c]) => `${q}:${c}`).join(', ')),
        h('td', {}, (w.capabilities || []).join(', ') || '—'),
        h('td', {}, when(w.last_heartbeat_at)),
        withActions ? h('td', { class: 'actions' },
          action('Drain', () => post(`api/v1/workers/${encodeURIComponent(w.id)}/drain`), { name: 'drain' }),
          w.state === 'paused' ? action('Resume', () => post(`api/v1/workers/${encodeURIComponent(w.id)}/resume`), { name: 'resume' })
            : action('Pause', () => post(`api/v1/workers/${encodeURIComponent(w.id)}/pause`), { name: 'pause' }),
          action('Shut down', () => post(`api/v1/workers/${encodeURIComponent(w.id)}/shutdown`), { danger: true, name: 'shutdown' })) : null),
      w.managed ? h('tr', { class: 'managed' }, h('td', { colspan: withActions ? 8 : 7 },
        table(['Local', 'Pid', 'State', 'Restarts', 'Running', 'Succeeded', 'Failed', 'Last error'], w.managed.map(m => h('tr', {},
          h('td', {}, m.local_id), h('td', {}, m.pid ?? '—'), h('td', {}, badge(m.state)), h('td', { class: 'num' }, m.restarts),
          h('td', { class: 'num' }, `${m.running}/${m.capacity}`), h('td', { class: 'num' }, n(m.succeeded)), h('td', { class: 'num' }, n(m.failed)),
          h('td', { class: 'small' }, m.last_error || '—'))), 'inner'))) : null,
    ]), 'workers');
}

export async function workers(main, params) {
  const all = params.get('all') === 'true';
  const box = h('div');
  fill(main, h('h1', {}, 'Workers and nodes'),
    h('p', {}, h('a', { href: all ? '#/workers' : '#/workers?all=true' }, all ? 'Live workers only' : 'Show stopped and dead workers too')), box);
  const render = items => box.replaceChildren(items.length ? workerTable(items, true) : h('p', { class: 'muted' }, 'No worker.'));
  render(await get('api/v1/workers', { all: all ? 'true' : undefined }));
  // Live: the overview's events carry the live workers; the full list is read again when they change.
  let lastKey = null;
  return onOverview(async o => {
    const key = JSON.stringify(o.workers.items.map(w => [w.id, w.state, w.capacity_used, w.last_heartbeat_at, w.managed]));
    if (key === lastKey) return;
    lastKey = key;
    if (document.activeElement?.tagName === 'BUTTON') return;
    render(all ? await get('api/v1/workers', { all: 'true' }) : o.workers.items);
  });
}

// ---- A per-key queue's keys --------------------------------------------------------------------------------------
// Each key with jobs queued or running, in key order, the jobs without a key first: what `gantry queues keys` prints.
export async function queueKeys(main, name, params) {
  const atLimit = params.get('at_limit') === 'true';
  const after = params.get('after'); // "" is a page: the one after the jobs without a key
  const base = `#/queues/${encodeURIComponent(name)}/keys`;
  const box = h('div', {}, h('p', { class: 'muted' }, 'Loading…'));
  fill(main, h('h1', {}, 'Keys of ', h('span', { class: 'mono' }, name)),
    h('p', {}, h('a', { href: atLimit ? base : `${base}?at_limit=true`, id: 'keys-filter' }, atLimit ? 'Every key' : 'Only the keys the limit holds back'),
      ' · ', h('a', { href: `#/jobs?queue=${encodeURIComponent(name)}` }, 'the queue\'s jobs')), box);
  const load = async () => {
    let page;
    try {
      page = await get(`api/v1/queues/${encodeURIComponent(name)}/keys${after === null ? '' : `?after=${encodeURIComponent(after)}`}`,
        { at_limit: atLimit ? 'true' : undefined, limit: 100 });
    } catch (err) {
      box.replaceChildren(notice(err.message));
      return;
    }
    const rate = page.rate_per_key != null;
    const rows = page.keys.map(k => h('tr', { 'data-key': k.key ?? '' },
      h('td', {}, k.key == null ? h('span', { class: 'muted' }, '(no key)')
        : h('a', { href: `#/jobs?queue=${encodeURIComponent(name)}&concurrency_key=${encodeURIComponent(k.key)}`, class: 'mono' }, k.key)),
      h('td', { class: 'num' }, n(k.queued)), h('td', { class: 'num' }, n(k.running)),
      rate ? h('td', { class: 'num' }, n(k.started_in_window)) : null,
      h('td', {}, k.at_limit ? h('span', { class: 'badge at-limit' }, 'at the limit') : '')));
    const limits = [page.per_key != null ? `per key ${page.per_key}` : null, rate ? `rate per key ${page.rate_per_key}` : null].filter(Boolean).join(' · ');
    box.replaceChildren(h('p', { class: 'muted' }, limits),
      page.keys.length ? table(['Key', 'Queued', 'Running', ...(rate ? ['Started in window'] : []), ''], rows, 'keys')
        : h('p', { class: 'muted' }, atLimit ? 'No key is at the limit.' : 'No key has jobs queued or running.'),
      h('p', { class: 'pager' },
        after !== null ? h('a', { href: `${base}${atLimit ? '?at_limit=true' : ''}` }, '« First') : null, ' ',
        page.next_after != null ? h('a', { href: `${base}?${new URLSearchParams({ ...(atLimit ? { at_limit: 'true' } : {}), after: page.next_after })}`, id: 'next-page' }, 'Next »') : null));
  };
  await load();
  // Live: the first page follows the queue's counts (at most once a second); a later page stays put.
  let lastKey = null, pending = false;
  return onOverview(o => {
    const q = o.queues.find(x => x.name === name);
    const key = JSON.stringify(q ? [q.counts, q.limits] : null);
    if (after !== null || key === lastKey || pending) { lastKey = key; return; }
    lastKey = key;
    pending = true;
    load().finally(() => { pending = false; });
  });
}

// ---- Bulk actions ------------------------------------------------------------------------------------------------
export async function bulk(main, params) {
  const form = h('form', { class: 'filters', id: 'bulk-form' },
    h('label', {}, 'Action ', h('select', { name: 'action' }, h('option', { value: 'retry' }, 'retry'), h('option', { value: 'cancel' }, 'cancel'))),
    h('label', {}, 'State ', h('select', { name: 'state' }, h('option', { value: '' }, 'any'), ['dead', 'cancelled', 'queued', 'scheduled', 'running', 'waiting'].map(s => h('option', { value: s, selected: s === (params.get('state') || 'dead') }, s)))),
    h('label', {}, 'Queue ', h('input', { name: 'queue', value: params.get('queue') || '', size: 10 })),
    h('label', {}, 'Type ', h('input', { name: 'type', value: params.get('type') || '', size: 10 })),
    h('label', {}, 'Tags ', h('input', { name: 'tags', placeholder: 'k=v k2=v2', size: 14 })),
    h('label', {}, 'Key ', h('input', { name: 'concurrency_key', value: params.get('concurrency_key') || '', placeholder: 'concurrency key', size: 14 })),
    h('label', {}, 'At most ', h('input', { name: 'max', type: 'number', min: 1, max: 10000, value: 1000, size: 6 })),
    h('button', { type: 'submit', 'data-action': 'preview' }, 'Preview'));
  const out = h('div', { id: 'bulk-result' });
  fill(main, h('h1', {}, 'Bulk actions'),
    h('p', { class: 'muted' }, 'Retry dead or cancelled jobs, or cancel unfinished ones, by filter. A preview counts what the action would touch; nothing changes until you confirm.'),
    session.can_act ? form : notice('This session may not act (read only).', 'info'), out);
  const body = () => {
    const d = new FormData(form);
    const b = {};
    for (const k of ['state', 'queue', 'type', 'concurrency_key']) if (d.get(k)) b[k] = String(d.get(k)).trim();
    const tags = String(d.get('tags') || '').split(/\s+/).filter(Boolean);
    if (tags.length) b.tags = Object.fromEntries(tags.map(t => { const i = t.indexOf('='); return [t.slice(0, i), t.slice(i + 1)]; }));
    if (d.get('max')) b.max = Number(d.get('max'));
    return [String(d.get('action')), b];
  };
  const describe = (verb, count, b) => `${verb} ${n(count)} ${b.state ? b.state + ' ' : ''}job${count === 1 ? '' : 's'}${b.type ? ` of type ${b.type}` : ''}${b.queue ? ` in queue ${b.queue}` : ''}${b.tags ? ` tagged ${Object.entries(b.tags).map(([k, v]) => `${k}=${v}`).join(', ')}` : ''}${b.concurrency_key ? ` with concurrency key ${b.concurrency_key}` : ''}`;
  form.addEventListener('submit', async e => {
    e.preventDefault();
    const [verb, b] = body();
    out.replaceChildren(h('p', { class: 'muted' }, 'Counting…'));
    let preview;
    try {
      preview = await post(`api/v1/jobs/bulk/${verb}`, { ...b, dry_run: true });
    } catch (err) {
      // Before the bulk endpoints exist, /jobs/bulk/retry is read as a job id (400 naming id) or not found.
      out.replaceChildren(notice(err.status === 404 || err.status === 405 || (err.status === 400 && err.field === 'id') ? 'Bulk actions are not available on this server.' : err.message));
      return;
    }
    const confirm = h('button', { class: verb === 'cancel' ? 'danger' : '', 'data-action': 'confirm' }, `${verb[0].toUpperCase()}${verb.slice(1)} ${n(preview.matched)} jobs`);
    out.replaceChildren(h('p', { class: 'preview', id: 'bulk-preview' }, describe(verb, preview.matched, b) + '?'), preview.matched ? confirm : h('p', { class: 'muted' }, 'Nothing to do.'));
    confirm.addEventListener('click', async () => {
      confirm.disabled = true;
      const bar = h('div', { class: 'progress' }, h('div', { class: 'bar' }), h('span', { class: 'label' }));
      const status = h('p', { id: 'bulk-progress' });
      out.replaceChildren(h('p', {}, describe(verb, preview.matched, b)), bar, status);
      let touched = 0, remaining = preview.matched, cursor = null;
      try {
        // The server acts on at most `max` jobs per call; called again, after the last job the previous call looked at
        // (its cursor: a job is taken once, even if it fails again meanwhile), while some remain.
        for (;;) {
          const r = await post(`api/v1/jobs/bulk/${verb}`, { ...b, dry_run: false, ...(cursor ? { cursor } : {}) });
          touched += r.touched;
          remaining = r.remaining;
          const total = touched + remaining;
          bar.firstChild.style.width = `${total ? (touched / total) * 100 : 100}%`;
          status.textContent = `${n(touched)} done, ${n(remaining)} remaining`;
          if (remaining <= 0 || !r.cursor || r.cursor === cursor) break;
          cursor = r.cursor;
        }
        out.append(h('p', { class: 'ok-line', id: 'bulk-done' }, `${verb === 'retry' ? 'Retried' : 'Cancelled'} ${n(touched)} jobs.${remaining ? ` ${n(remaining)} still match.` : ''}`));
      } catch (err) {
        out.append(notice(`${err.message} (after ${n(touched)} jobs)`));
      }
    });
  });
  return () => {};
}

// ---- Audit log ---------------------------------------------------------------------------------------------------
export async function audit(main, params) {
  const q = { limit: 50, cursor: params.get('cursor') || '', action: params.get('action') || '', actor: params.get('actor') || '' };
  const form = h('form', { class: 'filters' },
    h('label', {}, 'Action ', h('input', { name: 'action', value: q.action, placeholder: 'jobs.bulk_retry', size: 16 })),
    h('label', {}, 'Actor ', h('input', { name: 'actor', value: q.actor, placeholder: 'admin-0', size: 12 })),
    h('button', { type: 'submit' }, 'Filter'));
  form.addEventListener('submit', e => {
    e.preventDefault();
    const d = new FormData(form);
    const p = new URLSearchParams();
    for (const k of ['action', 'actor']) if (d.get(k)) p.set(k, String(d.get(k)).trim());
    location.hash = `#/audit${p.size ? '?' + p : ''}`;
  });
  fill(main, h('h1', {}, 'Audit log'), form, h('p', { class: 'muted' }, 'Loading…'));
  let page;
  try {
    page = await get('api/v1/audit', q);
  } catch (err) {
    main.lastChild.replaceWith(notice(err.status === 404 ? 'The audit log is not available on this server.' : err.message));
    return () => {};
  }
  const next = new URLSearchParams(params);
  next.set('cursor', page.next_cursor || '');
  main.lastChild.replaceWith(h('div', {},
    page.entries.length ? table(['When', 'Who', 'Action', 'Target', 'Jobs', 'Detail'], page.entries.map(e => h('tr', {},
      h('td', {}, when(e.at)), h('td', {}, e.actor), h('td', { class: 'mono' }, e.action), h('td', {}, e.target ?? '—'),
      h('td', { class: 'num' }, e.count ?? '—'), h('td', { class: 'small' }, e.detail ?? '')))) : h('p', { class: 'muted' }, 'Nothing recorded yet.'),
    page.next_cursor ? h('p', { class: 'pager' }, h('a', { href: `#/audit?${next}` }, 'Older »')) : null));
  return () => {};
}

// ---- Sign-in -----------------------------------------------------------------------------------------------------
export function signInView(main, signIn, why) {
  const input = h('input', { type: 'password', name: 'token', id: 'token', autocomplete: 'current-password', required: true, size: 40 });
  const message = h('p', { class: 'muted' }, why || 'This server needs a token. A read token sees everything; an admin token can also act.');
  const form = h('form', { class: 'signin', id: 'signin' }, h('h1', {}, 'Sign in'), message, h('label', {}, 'Token ', input), ' ', h('button', { type: 'submit' }, 'Sign in'));
  form.addEventListener('submit', async e => {
    e.preventDefault();
    try {
      await signIn(input.value);
    } catch (err) {
      message.replaceWith(notice(err.message));
    }
  });
  fill(main, form);
  input.focus();
  return () => {};
}
