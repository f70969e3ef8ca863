// greenfleet dashboard: hash-routed views over /api/v1, kept live by the event stream.
import * as api from './api.js';
import { el, clear, badgeFor, fmtAgo, fmtSeconds, fmtTime, describeEvent, debounce } from './dom.js';

const ATTENTION = ['credentials_rejected', 'blocked', 'passkey_required', 'needs_scan', 'suspended',
  'stuck_starting', 'unreachable', 'stale', 'none'];
const STATES = ['authorized', 'notAuthorized', 'starting', 'blocked', 'suspended', 'yellowCard',
  'sleepMode', 'initializing', 'unknown'];
const PAGE_SIZE = 50;

const app = {
  summary: null,
  view: null,       // the mounted view: {el, refresh?, onEvent?, tick?, destroy?}
  stream: null,
  clockOffsetMs: 0,  // server time - local time, from the last summary
};

const $ = (id) => document.getElementById(id);

// ---------- toasts and confirmation ----------

function toast(text, kind = '') {
  const t = el('div', { class: `toast ${kind}` }, text);
  $('toasts').append(t);
  setTimeout(() => t.remove(), 6000);
}

function confirmAction(title, text) {
  const dialog = $('confirm');
  $('confirm-title').textContent = title;
  $('confirm-text').textContent = text;
  dialog.returnValue = '';
  dialog.showModal();
  $('confirm-cancel').focus();
  return new Promise((resolve) => {
    dialog.addEventListener('close', () => resolve(dialog.returnValue === 'ok'), { once: true });
  });
}

function explain(err) {
  if (err instanceof api.ApiError) {
    if (err.status === 403 && err.code === 'forbidden') {
      return 'This key is read-only: actions need an admin key.';
    }
    if (err.retryAfter) return `${err.message} (retry in ${err.retryAfter} s)`;
    return err.message;
  }
  return `Network error: ${err.message}`;
}

// Runs an operator action after confirmation; resolves the API answer or null.
async function runAction(id, action, name) {
  const labels = {
    poll: ['Poll now', `Ask Green API for the state of ${name} now?`],
    logout: ['Log out', `Log ${name} out of WhatsApp? Someone will have to scan a QR code again.`],
    reboot: ['Reboot', `Reboot ${name}? It is unavailable for a short while.`],
  };
  const [title, text] = labels[action];
  if (!(await confirmAction(title, text))) return null;
  try {
    const r = await api.post(`/instances/${id}/actions/${action}`);
    toast(`${title}: ${r.status}${r.expectedAt ? `, expected at ${fmtTime(r.expectedAt)}` : ''}`);
    return r;
  } catch (err) {
    const msg = explain(err);
    toast(msg, 'bad');
    throw Object.assign(new Error(msg), { cause: err });
  }
}

// ---------- summary tiles ----------

function tile({ label, value, sub = '', href = null, kind = '', id }) {
  const attrs = { class: `tile ${kind}`, 'data-tile': id };
  const body = [
    el('span', { class: 'label' }, label),
    el('span', { class: 'value', 'data-value': '' }, value),
    el('span', { class: 'sub' }, sub),
  ];
  return href ? el('a', { ...attrs, href }, ...body) : el('div', attrs, ...body);
}

function summaryTiles(s) {
  const a = s.byAttention || {};
  const sched = s.scheduler || {};
  const errors = Object.values(sched.errors5m || {}).reduce((x, y) => x + y, 0);
  const oldest = s.oldestWaitingScan;
  const fleet = [
    tile({ id: 'instances', label: 'Instances', value: s.instances, href: '#/instances',
      sub: `${(s.byState || {}).authorized || 0} authorized` }),
    tile({ id: 'needs-scan', label: 'Needs scan', value: s.needsScan, href: '#/scan',
      kind: s.needsScan > 0 ? 'hot' : 'good',
      sub: oldest ? `oldest ${fmtSeconds(oldest.waitingSeconds)}` : 'nobody waiting' }),
  ];
  for (const name of ['credentials_rejected', 'blocked', 'passkey_required', 'suspended',
    'stuck_starting', 'unreachable', 'stale']) {
    const n = a[name] || 0;
    fleet.push(tile({ id: `attention-${name}`, label: name.replace('_', ' '), value: n,
      href: `#/instances?attention=${name}`, kind: n > 0 ? 'bad' : '', sub: 'attention' }));
  }
  const scheduler = [
    tile({ id: 'probes', label: 'Probes / s', value: (sched.probesPerSecond ?? 0).toFixed(2),
      sub: `${sched.inFlight ?? 0} in flight, ${sched.waitingForHost ?? 0} waiting` }),
    tile({ id: 'lateness', label: 'Lateness p99', value: `${Math.round(sched.latenessP99Ms ?? 0)} ms`,
      kind: (sched.latenessP99Ms ?? 0) > 5000 ? 'bad' : '',
      sub: `p50 ${Math.round(sched.latenessP50Ms ?? 0)} ms` }),
    tile({ id: 'sessions', label: 'Scan sessions', value: sched.activeScanSessions ?? 0,
      sub: 'taking QR now' }),
    tile({ id: 'errors', label: 'Errors (5 min)', value: errors, kind: errors > 0 ? 'hot' : '',
      sub: `${sched.rateLimited5m ?? 0} rate-limited, ${sched.outages5m ?? 0} outages` }),
    tile({ id: 'hosts', label: 'Hosts paused', value: sched.hostsPaused ?? 0,
      kind: (sched.hostsPaused ?? 0) > 0 ? 'bad' : '', sub: 'upstream backoff' }),
  ];
  return el('div', {},
    el('h2', { class: 'section-title' }, 'Fleet'),
    el('div', { class: 'tiles', id: 'fleet-tiles' }, ...fleet),
    el('h2', { class: 'section-title' }, 'Scheduler'),
    el('div', { class: 'tiles', id: 'scheduler-tiles' }, ...scheduler),
    partnersLine(s.partners));
}

// One line on the partner accounts' last syncs (absent when none is registered).
function partnersLine(p) {
  if (!p || !p.accounts) return '';
  const when = p.lastSyncAt ? `last sync ${p.lastSyncAt}` : 'not synced yet';
  const failing = p.failing ? `, ${p.failing} failing` : '';
  return el('p', { id: 'partners-line', class: p.failing ? 'bad' : '' },
    `Partner accounts: ${p.accounts}${failing} — ${when}: ${p.added} added, ${p.updated} updated, ` +
    `${p.expired} expired, ${p.skipped} skipped, ${p.errors} errors`);
}

async function loadSummary() {
  const s = await api.get('/summary');
  app.summary = s;
  app.clockOffsetMs = Date.parse(s.generatedAt) - Date.now();
  const box = $('summary');
  if (box) box.replaceChildren(summaryTiles(s));
  return s;
}

const serverNow = () => Date.now() + app.clockOffsetMs;

// ---------- needs-scan queue ----------

function queueList(items, { currentId = null, onPick = null } = {}) {
  if (!items.length) {
    return el('div', { class: 'queue empty', id: 'queue' }, 'Nobody needs a scan right now.');
  }
  return el('ol', { class: 'queue', id: 'queue', 'aria-label': 'Needs scan, longest waiting first' },
    ...items.map((it) => el('li', { 'data-id': it.id, class: it.id === currentId ? 'current' : '' },
      el('div', { class: 'who' },
        el('a', { href: `#/instances/${it.id}` }, it.name || `#${it.id}`),
        el('span', { class: 'mono' }, String(it.id))),
      el('span', { class: 'wait', 'data-since': it.stateSince, title: `since ${fmtTime(it.stateSince)}` },
        fmtAgo(it.stateSince, serverNow())),
      onPick
        ? el('button', { type: 'button', class: 'btn', onclick: () => onPick(it.id) },
          it.id === currentId ? 'Showing' : 'Show QR')
        : el('a', { class: 'btn', href: `#/scan/${it.id}` }, 'Scan'))));
}

function tickWaits(root) {
  for (const w of root.querySelectorAll('[data-since]')) {
    w.textContent = fmtAgo(w.dataset.since, serverNow());
  }
}

// ---------- scan links ----------

// "Create scan link" (admin): a link the phone holder opens without a key, shown to copy and as
// a QR code (rendered by the server) to photograph.
function scanLinkBox() {
  const out = el('div', { class: 'scan-link', id: 'scan-link', hidden: true, 'aria-live': 'polite' });
  const create = async (id) => {
    out.hidden = false;
    out.replaceChildren(el('p', { class: 'muted' }, 'Creating a link…'));
    try {
      const link = await api.post(`/instances/${id}/scan-links`);
      const input = el('input', { type: 'text', readonly: true, value: link.url, id: 'scan-link-url',
        class: 'mono', 'aria-label': 'Scan link', onfocus: (e) => e.target.select() });
      const copy = el('button', { type: 'button', class: 'btn', onclick: async () => {
        try {
          await navigator.clipboard.writeText(link.url);
          copy.textContent = 'Copied';
        } catch {
          input.select();
        }
      } }, 'Copy');
      out.replaceChildren(
        el('p', {}, 'Send this to whoever holds the phone. It works without a key until ',
          el('strong', {}, fmtTime(link.expiresAt)), ', or until the phone is linked.'),
        el('div', { class: 'row' }, input, copy),
        el('img', { src: `data:image/png;base64,${link.qrPng}`, alt: 'QR code of the scan link',
          class: 'scan-link-qr', id: 'scan-link-qr', width: 160, height: 160 }));
    } catch (err) {
      out.replaceChildren(el('p', { class: 'error' }, explain(err)));
    }
  };
  const hide = () => {
    out.hidden = true;
    out.replaceChildren();
  };
  return { el: out, create, hide };
}

// ---------- views ----------

function overviewView() {
  const queueBox = el('div', {}, el('div', { class: 'empty' }, 'Loading…'));
  const root = el('div', {},
    el('h1', { class: 'sr-only' }, 'Overview'),
    el('div', { id: 'summary' }, app.summary ? summaryTiles(app.summary) : ''),
    el('div', { class: 'section-title' },
      el('h2', {}, 'Needs scan'),
      el('a', { class: 'btn btn-primary', href: '#/scan' }, 'Start scan mode')),
    queueBox);
  const refresh = async () => {
    const r = await api.get('/needs-scan?limit=100');
    queueBox.replaceChildren(queueList(r.items));
  };
  return { el: root, refresh, tick: () => tickWaits(root) };
}

function scanView(requestedId) {
  const skipped = new Set();
  let queue = [];
  let current = requestedId ? Number(requestedId) : null;
  let currentName = '';
  let generation = 0;
  let imgUrl = null;
  let shownFetchedAt = null;
  let expiresAt = null;
  let timer = null;
  let leaving = false;

  const img = el('img', { id: 'qr-img', alt: 'QR code to scan with WhatsApp', hidden: '' });
  const note = el('div', { class: 'qr-note', id: 'qr-note' }, 'Loading…');
  const box = el('div', { class: 'qr-box', id: 'qr-box' }, img, note);
  const name = el('p', { class: 'scan-name', id: 'scan-name' }, '');
  const countdown = el('p', { class: 'countdown', id: 'qr-countdown', 'aria-live': 'off' }, '');
  const status = el('p', { class: 'muted', id: 'scan-status', role: 'status' }, '');
  const skipBtn = el('button', { type: 'button', class: 'btn', id: 'skip', onclick: () => skip() }, 'Skip');
  const openBtn = el('a', { class: 'btn', id: 'open-instance', href: '#/instances' }, 'Details');
  const linkBox = scanLinkBox();
  const linkBtn = app.role === 'admin'
    ? el('button', { type: 'button', class: 'btn', id: 'create-scan-link',
      onclick: () => current !== null && linkBox.create(current) }, 'Create scan link')
    : null;
  const stage = el('section', { class: 'scan-stage card', 'aria-label': 'QR code' },
    name, box, countdown, status, el('div', { class: 'row' }, skipBtn, openBtn, linkBtn), linkBox.el);
  const side = el('div', {}, el('h2', {}, 'Queue'), el('div', { id: 'scan-queue' }));
  const root = el('div', {},
    el('div', { class: 'section-title' }, el('h1', {}, 'Scan mode'),
      el('span', { class: 'muted' }, 'Hand the phone over; the next QR appears when this one is scanned.')),
    el('div', { class: 'scan' }, stage, side));

  const setNote = (text, done = false) => {
    img.hidden = true;
    note.hidden = false;
    note.textContent = text;
    box.classList.toggle('done', done);
  };

  const renderQueue = () => {
    side.querySelector('#scan-queue').replaceChildren(
      queueList(queue, { currentId: current, onPick: (id) => show(id) }));
  };

  const show = (id) => {
    generation += 1;
    clearTimeout(timer);
    leaving = false;
    current = id;
    shownFetchedAt = null;
    expiresAt = null;
    countdown.textContent = '';
    status.textContent = '';
    stage.dataset.currentId = id === null ? '' : String(id);
    linkBox.hide();
    if (linkBtn) linkBtn.disabled = id === null;
    const item = queue.find((q) => q.id === id);
    currentName = item ? item.name || `#${id}` : id === null ? '' : `#${id}`;
    name.textContent = currentName;
    openBtn.href = id === null ? '#/instances' : `#/instances/${id}`;
    skipBtn.disabled = id === null;
    renderQueue();
    if (id === null) {
      setNote(queue.length ? 'Every waiting instance was skipped.' : 'Nobody needs a scan right now.', !queue.length);
      return;
    }
    setNote('Fetching the QR code…');
    pollQr(generation);
  };

  const pickNext = () => {
    const next = queue.find((q) => !skipped.has(q.id) && q.id !== current);
    show(next ? next.id : null);
  };

  const skip = () => {
    if (current !== null) skipped.add(current);
    pickNext();
  };

  // The current instance left needs-scan (scanned, most likely): say so, then move on.
  const left = (why) => {
    if (leaving) return;
    leaving = true;
    generation += 1;
    clearTimeout(timer);
    countdown.textContent = '';
    setNote(`✓ ${currentName} ${why}`, true);
    status.textContent = 'Moving to the next instance…';
    const gen = generation;
    setTimeout(() => {
      if (gen !== generation) return;
      queue = queue.filter((q) => q.id !== current);
      pickNext();
    }, 1200);
  };

  const pollQr = async (gen) => {
    const again = (ms) => {
      if (gen === generation) timer = setTimeout(() => pollQr(gen), ms);
    };
    try {
      const info = await api.qrInfo(current);
      if (gen !== generation) return;
      if (info.pending !== undefined) {
        if (!shownFetchedAt) setNote('Waiting for Green API to hand out the first QR…');
        return again(info.pending * 1000);
      }
      if (info.type !== 'qrCode') {
        setNote(`Green API answered ${info.type}: ${info.message}`);
        return again(3000);
      }
      expiresAt = info.expiresAt;
      if (info.fetchedAt !== shownFetchedAt) {
        const r = await api.qrImage(current);
        if (gen !== generation) return;
        if (r.pending !== undefined) return again(r.pending * 1000);
        const url = URL.createObjectURL(r.blob);
        await new Promise((resolve) => {
          img.onload = resolve;
          img.onerror = resolve;
          img.src = url;
        });
        if (imgUrl) URL.revokeObjectURL(imgUrl);
        imgUrl = url;
        if (gen !== generation) return;
        shownFetchedAt = info.fetchedAt;
        img.dataset.instanceId = String(current);
        img.dataset.fetchedAt = info.fetchedAt;
        img.hidden = false;
        note.hidden = true;
        box.classList.remove('done');
        status.textContent = info.sessionEndsAt ? `Scan session until ${fmtTime(info.sessionEndsAt)}` : '';
      }
      tick();
      again(2000);
    } catch (err) {
      if (gen !== generation) return;
      if (err instanceof api.ApiError && err.code === 'already_authorized') return left('is authorized');
      if (err instanceof api.ApiError && (err.code === 'not_needed' || err.status === 404)) {
        return left('no longer needs a scan');
      }
      setNote(explain(err));
      again(err instanceof api.ApiError && err.retryAfter ? err.retryAfter * 1000 : 3000);
    }
  };

  const tick = () => {
    tickWaits(side);
    if (!expiresAt || leaving || current === null) return;
    const left_s = Math.max(0, Math.round((Date.parse(expiresAt) - serverNow()) / 1000));
    countdown.replaceChildren('QR refreshes in ', el('strong', {}, String(left_s)), ' s');
  };

  const refresh = async () => {
    const r = await api.get('/needs-scan?limit=100');
    queue = r.items;
    if (current !== null && !leaving && !queue.some((q) => q.id === current)) {
      renderQueue();
      left('left the queue');
      return;
    }
    if (current === null && !leaving) {
      pickNext();
      return;
    }
    renderQueue();
  };

  const onEvent = (type, e) => {
    if (e.id === current && type === 'state_changed' && e.toState !== 'notAuthorized') {
      left(e.toState === 'authorized' ? 'is authorized' : `is now ${e.toState}`);
    }
  };

  const destroy = () => {
    generation += 1;
    clearTimeout(timer);
    if (imgUrl) URL.revokeObjectURL(imgUrl);
  };
  return { el: root, refresh, tick, onEvent, destroy };
}

function instancesView(params) {
  const filters = {
    q: params.get('q') || '', state: params.get('state') || '',
    attention: params.get('attention') || '', tag: params.get('tag') || '',
  };
  const cursors = [''];  // cursor of each page seen, for Previous
  let page = 0;

  const select = (name, values, label) => el('label', {}, label,
    el('select', { name, onchange: (e) => { filters[name] = e.target.value; reset(); } },
      el('option', { value: '' }, 'any'),
      ...values.map((v) => el('option', { value: v, selected: filters[name] === v ? '' : null }, v))));
  const search = el('input', { type: 'search', name: 'q', value: filters.q, placeholder: 'name contains…',
    'aria-label': 'Search by name', oninput: debounce((e) => { filters.q = e.target.value; reset(); }, 300) });
  const tagInput = el('input', { type: 'text', name: 'tag', value: filters.tag, placeholder: 'exact tag',
    oninput: debounce((e) => { filters.tag = e.target.value.trim(); reset(); }, 300) });
  const tbody = el('tbody', {});
  const info = el('span', { class: 'muted', id: 'instances-info' }, '');
  const prev = el('button', { type: 'button', class: 'btn', onclick: () => go(page - 1) }, '← Previous');
  const next = el('button', { type: 'button', class: 'btn', onclick: () => go(page + 1) }, 'Next →');
  const root = el('div', {},
    el('h1', {}, 'Instances'),
    el('form', { class: 'filters', role: 'search', onsubmit: (e) => e.preventDefault() },
      el('label', {}, 'Search', search),
      select('state', STATES, 'State'),
      select('attention', ATTENTION, 'Attention'),
      el('label', {}, 'Tag', tagInput)),
    el('div', { class: 'table-wrap' },
      el('table', { id: 'instances-table' },
        el('thead', {}, el('tr', {},
          el('th', {}, 'Name'), el('th', {}, 'id'), el('th', {}, 'State'), el('th', {}, 'Attention'),
          el('th', { class: 'hide-sm' }, 'Since'), el('th', { class: 'hide-sm' }, 'Checked'),
          el('th', { class: 'hide-sm' }, 'Tags'))),
        tbody)),
    el('div', { class: 'pager' }, prev, info, next));

  const reset = () => {
    cursors.length = 1;
    go(0);
  };

  const load = async () => {
    const r = await api.get(`/instances${api.query({ ...filters, limit: PAGE_SIZE, cursor: cursors[page] })}`);
    if (r.nextCursor) cursors[page + 1] = r.nextCursor;
    else cursors.length = page + 1;
    tbody.replaceChildren(...(r.items.length ? r.items.map((it) => el('tr', { 'data-id': it.id },
      el('td', {}, el('a', { href: `#/instances/${it.id}` }, it.name || '(no name)')),
      el('td', { class: 'mono' }, String(it.id)),
      el('td', {}, badgeFor('state', it.state)),
      el('td', {}, badgeFor('attention', it.attention)),
      el('td', { class: 'hide-sm' }, it.stateSince ? fmtAgo(it.stateSince, serverNow()) : '—'),
      el('td', { class: 'hide-sm' }, it.lastCheckedAt ? fmtTime(it.lastCheckedAt) : '—'),
      el('td', { class: 'hide-sm' }, ...(it.tags || []).map((t) => el('span', { class: 'tag' }, t)))))
      : [el('tr', {}, el('td', { colspan: 7, class: 'empty' }, 'No instance matches.'))]));
    const from = r.items.length ? page * PAGE_SIZE + 1 : 0;
    info.textContent = `${from}–${page * PAGE_SIZE + r.items.length} of ${r.total}`;
    prev.disabled = page === 0;
    next.disabled = !r.nextCursor;
  };
  const go = (p) => {
    page = Math.max(0, Math.min(p, cursors.length - 1));
    load().catch((err) => toast(explain(err), 'bad'));
  };
  return { el: root, refresh: load };
}

function instanceView(id) {
  const facts = el('dl', { class: 'facts', id: 'instance-facts' });
  const history = el('ol', { class: 'feed', id: 'instance-history' });
  const title = el('h1', {}, `#${id}`);
  const message = el('p', { class: 'error', id: 'action-message', role: 'alert' }, '');
  let instanceName = `#${id}`;
  const linkBox = scanLinkBox();
  const actionBtn = (action, label, kind = '') => el('button', {
    type: 'button', class: `btn ${kind}`, 'data-action': action,
    onclick: async () => {
      message.textContent = '';
      try {
        await runAction(id, action, instanceName);
      } catch (err) {
        message.textContent = err.message;
      }
    },
  }, label);
  const root = el('div', {},
    el('p', {}, el('a', { href: '#/instances' }, '← Instances')),
    title,
    el('div', { class: 'grid-2' },
      el('section', { class: 'card', 'aria-label': 'Status' },
        facts,
        el('div', { class: 'row actions' },
          ...(app.role === 'admin'
            ? [actionBtn('poll', 'Poll now'), actionBtn('logout', 'Log out', 'btn-danger'),
               actionBtn('reboot', 'Reboot', 'btn-danger'),
               el('button', { type: 'button', class: 'btn', id: 'create-scan-link',
                 onclick: () => linkBox.create(id) }, 'Create scan link')]
            : []),
          el('a', { class: 'btn btn-primary', href: `#/scan/${id}`, id: 'scan-this' }, 'Show QR')),
        linkBox.el,
        app.role === 'admin'
          ? message
          : el('p', { class: 'note', id: 'read-only-note' },
            'This key is read-only: poll, log out and reboot need an admin key.')),
      el('section', { 'aria-label': 'State history' }, el('h2', {}, 'History'), history)));

  const fact = (k, v) => [el('dt', {}, k), el('dd', {}, v)];
  const refresh = async () => {
    const [it, ev] = await Promise.all([api.get(`/instances/${id}`),
      api.get(`/instances/${id}/events?limit=100`)]);
    instanceName = it.name || `#${id}`;
    title.textContent = instanceName;
    facts.replaceChildren(
      ...fact('id', el('span', { class: 'mono' }, String(it.id))),
      ...fact('state', badgeFor('state', it.state)),
      ...fact('attention', badgeFor('attention', it.attention)),
      ...fact('since', it.stateSince ? `${fmtTime(it.stateSince)} (${fmtAgo(it.stateSince, serverNow())})` : '—'),
      ...fact('last check', it.lastCheckedAt ? fmtTime(it.lastCheckedAt) : '—'),
      ...fact('next check', it.nextCheckAt ? fmtTime(it.nextCheckAt) : '—'),
      ...fact('last error', it.lastError || '—'),
      ...fact('phone', it.phone || '—'),
      ...fact('apiUrl', el('span', { class: 'mono' }, it.apiUrl)),
      ...fact('token', el('span', { class: 'mono' }, it.tokenHint)),
      ...fact('tags', (it.tags || []).join(', ') || '—'),
      ...fact('enabled', it.enabled ? 'yes' : 'no'),
      ...fact('scan session', it.scanSession ? 'running' : 'no'));
    history.replaceChildren(...(ev.items.length ? ev.items.map(eventItem)
      : [el('li', { class: 'empty' }, 'No events yet.')]));
  };
  const onEvent = (type, e) => e.id === id;
  return { el: root, refresh, onEvent };
}

function eventItem(e) {
  return el('li', { 'data-seq': e.seq },
    el('time', { datetime: e.at, title: e.at }, fmtTime(e.at)),
    el('span', {}, badgeFor('event', e.type)),
    el('span', { class: 'what' },
      el('a', { href: `#/instances/${e.id}` }, `#${e.id}`), ' ', describeEvent(e)));
}

async function latestSeq() {
  // Galloping then bisection over `after`: a handful of tiny requests, whatever the log's size.
  const has = async (after) => (await api.get(`/events?after=${after}&limit=1`)).items.length > 0;
  let lo = 0;
  let hi = 256;
  while (await has(hi)) {
    lo = hi;
    hi *= 2;
  }
  while (hi - lo > 1) {
    const mid = Math.floor((lo + hi) / 2);
    if (await has(mid)) lo = mid;
    else hi = mid;
  }
  return (await has(lo)) ? hi : lo;
}

function eventsView() {
  const list = el('ol', { class: 'feed', id: 'events-feed' }, el('li', { class: 'empty' }, 'Loading…'));
  let filter = '';
  let items = [];
  const typeSelect = el('select', { 'aria-label': 'Event type', onchange: (e) => { filter = e.target.value; render(); } },
    el('option', { value: '' }, 'all events'),
    ...['state_changed', 'attention_changed', 'scan_session_started', 'scan_session_ended', 'action',
      'scan_link', 'pairing_code'].map((t) => el('option', { value: t }, t)));
  const root = el('div', {},
    el('div', { class: 'section-title' }, el('h1', {}, 'Events'), typeSelect),
    list);
  const render = () => {
    const shown = items.filter((e) => !filter || e.type === filter);
    list.replaceChildren(...(shown.length ? shown.map(eventItem) : [el('li', { class: 'empty' }, 'No events.')]));
  };
  let loaded = false;
  const refresh = async () => {
    if (loaded) return;
    loaded = true;
    const top = await latestSeq();
    const r = await api.get(`/events?after=${Math.max(0, top - 200)}&limit=200`);
    const seen = new Set(items.map((e) => e.seq));
    items = [...items, ...r.items.filter((e) => !seen.has(e.seq)).reverse()]
      .sort((a, b) => b.seq - a.seq).slice(0, 300);
    render();
  };
  const onEvent = (type, e) => {
    if (items.some((x) => x.seq === e.seq)) return false;
    items.unshift(e);
    items = items.slice(0, 300);
    render();
    return false;
  };
  return { el: root, refresh, onEvent };
}

// ---------- routing and live updates ----------

function route() {
  const hash = location.hash.replace(/^#/, '') || '/';
  const [path, search = ''] = hash.split('?');
  const params = new URLSearchParams(search);
  const parts = path.split('/').filter(Boolean);
  if (parts[0] === 'scan') return { nav: 'scan', make: () => scanView(parts[1]) };
  if (parts[0] === 'instances' && parts[1]) return { nav: 'instances', make: () => instanceView(Number(parts[1])) };
  if (parts[0] === 'instances') return { nav: 'instances', make: () => instancesView(params) };
  if (parts[0] === 'events') return { nav: 'events', make: () => eventsView() };
  return { nav: 'overview', make: () => overviewView() };
}

function mount() {
  if (!api.getKey()) return;
  if (app.view && app.view.destroy) app.view.destroy();
  const { nav, make } = route();
  for (const a of document.querySelectorAll('[data-nav]')) {
    if (a.dataset.nav === nav) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
  app.view = make();
  $('view').replaceChildren(app.view.el);
  refreshView();
}

async function refreshView() {
  const view = app.view;
  if (!view || !view.refresh) return;
  try {
    await view.refresh();
  } catch (err) {
    if (view === app.view) toast(explain(err), 'bad');
  }
}

const refreshAll = debounce(() => {
  loadSummary().catch(() => {});
  refreshView();
}, 300);

function onStreamEvent(type, data) {
  const view = app.view;
  let wantsRefresh = true;
  if (view && view.onEvent) wantsRefresh = view.onEvent(type, data) !== false;
  if (wantsRefresh) refreshAll();
  else refreshSummary();
}
const refreshSummary = debounce(() => loadSummary().catch(() => {}), 300);

function setLive(state) {
  const live = $('live');
  live.dataset.state = state;
  live.querySelector('.live-text').textContent = { live: 'live', connecting: 'connecting…', offline: 'reconnecting…' }[state];
}

function showLogin(message = '') {
  if (app.stream) app.stream.stop();
  app.stream = null;
  if (app.view && app.view.destroy) app.view.destroy();
  app.view = null;
  clear($('view'));
  document.querySelector('.nav').hidden = true;
  document.querySelector('.session').hidden = true;
  $('login').hidden = false;
  $('login-error').textContent = message;
  $('key-input').focus();
}

async function start() {
  try {
    await loadSummary();
    app.role = (await api.get('/me')).role;
  } catch (err) {
    api.setKey('');
    showLogin(err instanceof api.ApiError && err.status === 401
      ? 'That key is unknown or revoked.' : explain(err));
    return;
  }
  $('login').hidden = true;
  document.querySelector('.nav').hidden = false;
  document.querySelector('.session').hidden = false;
  app.stream = new api.EventStream({ onEvent: onStreamEvent, onStatus: setLive });
  app.stream.start();
  mount();
}

function init() {
  api.takeKeyFromLocation();
  api.setUnauthorizedHandler(() => {
    api.setKey('');
    showLogin('The key was refused (unknown or revoked). Paste another one.');
  });
  $('login-form').addEventListener('submit', (e) => {
    e.preventDefault();
    const key = $('key-input').value.trim();
    if (!key) return;
    api.setKey(key);
    $('key-input').value = '';
    start();
  });
  $('sign-out').addEventListener('click', () => {
    api.setKey('');
    showLogin();
  });
  window.addEventListener('hashchange', () => {
    if (api.takeKeyFromLocation()) start();
    else mount();
  });
  // Waiting times and countdowns tick locally; data comes from the stream (and a slow safety net).
  setInterval(() => app.view && app.view.tick && app.view.tick(), 1000);
  setInterval(() => { if (app.stream) refreshAll(); }, 15000);
  if (api.getKey()) start();
  else showLogin();
}

init();
