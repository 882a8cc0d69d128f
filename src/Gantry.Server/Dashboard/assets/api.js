// The dashboard's link to the API under the same prefix: reads, actions (with the session's anti-forgery token),
// the session itself, and the shared stream of overview events.
export const base = new URL('.', location.href.split('#')[0]);
export const session = { open: true, signed_in: true, can_act: true, hide_payloads: false, antiforgery: null, name: null, scope: null };

export class ApiError extends Error {
  constructor(status, problem) {
    super(problem?.detail || problem?.title || `HTTP ${status}`);
    this.status = status;
    this.field = problem?.field;
  }
}

async function answer(response) {
  if (response.status === 204) return null;
  const type = response.headers.get('content-type') || '';
  const body = type.includes('json') ? await response.json() : await response.text();
  if (!response.ok) throw new ApiError(response.status, typeof body === 'object' ? body : { detail: body });
  return body;
}

export function url(path, query) {
  const u = new URL(path, base);
  for (const [k, v] of Object.entries(query || {})) {
    if (Array.isArray(v)) v.forEach(x => u.searchParams.append(k, x));
    else if (v !== undefined && v !== null && v !== '') u.searchParams.set(k, v);
  }
  return u;
}

export async function get(path, query) {
  return answer(await fetch(url(path, query), { credentials: 'same-origin', headers: { Accept: 'application/json' } }));
}

export async function post(path, body, query) {
  const headers = { Accept: 'application/json' };
  if (session.antiforgery) headers.RequestVerificationToken = session.antiforgery;
  const init = { method: 'POST', credentials: 'same-origin', headers };
  if (body !== undefined) { headers['Content-Type'] = 'application/json'; init.body = JSON.stringify(body); }
  return answer(await fetch(url(path, query), init));
}

export async function loadSession() {
  Object.assign(session, await get('dashboard/session'));
  return session;
}

export async function signIn(token) {
  await post('dashboard/session', { token });
  return loadSession();
}

export async function signOut() {
  await post('dashboard/session/end');
  return loadSession();
}

// One EventSource for the whole page: every view that wants the overview's ticks listens to it.
const listeners = new Set();
let source = null;
export let lastOverview = null;

export function onOverview(fn) {
  listeners.add(fn);
  if (lastOverview) fn(lastOverview);
  return () => listeners.delete(fn);
}

export function startEvents(indicator) {
  if (source) return;
  source = new EventSource(url('api/v1/events'), { withCredentials: true });
  source.addEventListener('overview', e => {
    lastOverview = JSON.parse(e.data);
    for (const fn of [...listeners]) {
      try { fn(lastOverview); } catch (err) { console.error(err); }
    }
  });
  source.onopen = () => indicator?.classList.add('on');
  source.onerror = () => indicator?.classList.remove('on');
}

export function stopEvents() {
  source?.close();
  source = null;
}
