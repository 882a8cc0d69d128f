// The dashboard's shell: the session, the hash router, and the one live event stream.
import { loadSession, session, signIn, signOut, startEvents, stopEvents, ApiError } from './api.js';
import * as views from './views.js';

const main = document.getElementById('main');
const who = document.getElementById('who');
const live = document.getElementById('live');
let stop = () => {};

function showWho() {
  who.replaceChildren();
  if (session.open) { who.textContent = 'open (loopback)'; return; }
  if (!session.signed_in) return;
  who.append(`${session.name} (${session.scope}${session.can_act ? '' : ', read only'}) `);
  const out = views.h('button', { class: 'link', 'data-action': 'sign-out' }, 'Sign out');
  out.addEventListener('click', async () => { await signOut(); stopEvents(); route(); });
  who.append(out);
}

async function route() {
  stop();
  stop = () => {};
  const [path, query] = (location.hash.slice(1) || '/').split('?');
  const params = new URLSearchParams(query || '');
  const parts = path.split('/').filter(Boolean);
  for (const a of document.querySelectorAll('#nav a')) a.classList.toggle('active', a.dataset.nav === (parts[0] || 'overview'));
  if (!session.open && !session.signed_in) {
    stop = views.signInView(main, async token => {
      await signIn(token);
      showWho();
      startEvents(live);
      route();
    });
    return;
  }
  startEvents(live);
  try {
    switch (parts[0] || '') {
      case '': stop = await views.overview(main); break;
      case 'jobs': stop = parts[1] ? await views.job(main, parts[1]) : await views.jobs(main, params); break;
      case 'workflows': stop = parts[1] ? await views.workflow(main, parts[1]) : await views.workflows(main, params); break;
      case 'workers': stop = await views.workers(main, params); break;
      case 'bulk': stop = await views.bulk(main, params); break;
      case 'queues':
        if (parts[1] && parts[2] === 'keys' && parts.length === 3) { stop = await views.queueKeys(main, decodeURIComponent(parts[1]), params); break; }
        main.replaceChildren(views.h('h1', {}, 'Not found'), views.h('p', {}, views.h('a', { href: '#/' }, 'Overview')));
        break;
      case 'audit': stop = await views.audit(main, params); break;
      default: main.replaceChildren(views.h('h1', {}, 'Not found'), views.h('p', {}, views.h('a', { href: '#/' }, 'Overview')));
    }
  } catch (err) {
    if (err instanceof ApiError && err.status === 401) {
      await loadSession();
      showWho();
      route();
      return;
    }
    main.replaceChildren(views.h('h1', {}, 'Error'), views.h('p', { class: 'notice error', role: 'alert' }, err.message));
  }
}

window.addEventListener('hashchange', route);
// A page left for another keeps no stream open (a page kept in the back-forward cache would hold a connection of the
// browser's few per server, and starve the next page's requests).
window.addEventListener('pagehide', () => { stop(); stop = () => {}; stopEvents(); });
window.addEventListener('pageshow', e => { if (e.persisted) route(); });
if ((location.hash.slice(1) || '/').split('?')[0] === '/') views.prefetchOverview();
try {
  await loadSession();
} catch (err) {
  main.replaceChildren(views.h('p', { class: 'notice error' }, `The dashboard cannot reach the server: ${err.message}`));
}
showWho();
route();
