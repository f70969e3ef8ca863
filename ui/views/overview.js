// Overview: the fleet and scheduler tiles of /summary and the needs-scan queue.
import * as api from '../api.js';
import { el, fmtSeconds } from '../dom.js';
import { session } from '../session.js';
import { queueList, tickWaits } from '../widgets.js';

// Attention names without a tile of their own here: needs_scan has the queue's tile, none is fine.
const UNTILED_ATTENTION = new Set(['needs_scan', 'none']);

function tile({ label, value, sub = '', href = null, kind = '', id }) {
  const attrs = { class: `tile ${kind}`, 'data-tile': id };
  const body = [
    el('span', { class: 'label' }, label),
    el('span', { class: 'value', 'data-value': '' }, value),
    el('span', { class: 'sub' }, sub),
  ];
  return href ? el('a', { ...attrs, href }, ...body) : el('div', attrs, ...body);
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

function fleetTiles(s) {
  const a = s.byAttention || {};
  const oldest = s.oldestWaitingScan;
  const fleet = [
    tile({ id: 'instances', label: 'Instances', value: s.instances, href: '#/instances',
      sub: `${(s.byState || {}).authorized || 0} authorized` }),
    tile({ id: 'needs-scan', label: 'Needs scan', value: s.needsScan, href: '#/scan',
      kind: s.needsScan > 0 ? 'hot' : 'good',
      sub: oldest ? `oldest ${fmtSeconds(oldest.waitingSeconds)}` : 'nobody waiting' }),
  ];
  for (const name of session.meta.attention.filter((n) => !UNTILED_ATTENTION.has(n))) {
    const n = a[name] || 0;
    fleet.push(tile({ id: `attention-${name}`, label: name.replace('_', ' '), value: n,
      href: `#/instances?attention=${name}`, kind: n > 0 ? 'bad' : '', sub: 'attention' }));
  }
  return fleet;
}

function schedulerTiles(s) {
  const sched = s.scheduler || {};
  const errors = Object.values(sched.errors5m || {}).reduce((x, y) => x + y, 0);
  return [
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
}

export function summaryTiles(s) {
  return el('div', {},
    el('h2', { class: 'section-title' }, 'Fleet'),
    el('div', { class: 'tiles', id: 'fleet-tiles' }, ...fleetTiles(s)),
    el('h2', { class: 'section-title' }, 'Scheduler'),
    el('div', { class: 'tiles', id: 'scheduler-tiles' }, ...schedulerTiles(s)),
    partnersLine(s.partners));
}

export function overviewView() {
  const queueBox = el('div', {}, el('div', { class: 'empty' }, 'Loading…'));
  const root = el('div', {},
    el('h1', { class: 'sr-only' }, 'Overview'),
    el('div', { id: 'summary' }, session.summary ? summaryTiles(session.summary) : ''),
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
