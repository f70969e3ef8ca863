// Events: the latest 200 of the event log, then the live stream on top, filtered by type.
import * as api from '../api.js';
import { el } from '../dom.js';
import { eventItem } from '../widgets.js';

const EVENT_TYPES = ['state_changed', 'attention_changed', 'scan_session_started',
  'scan_session_ended', 'action', 'scan_link', 'pairing_code'];

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

export function eventsView() {
  const list = el('ol', { class: 'feed', id: 'events-feed' }, el('li', { class: 'empty' }, 'Loading…'));
  let filter = '';
  let items = [];
  const typeSelect = el('select', { 'aria-label': 'Event type', onchange: (e) => { filter = e.target.value; render(); } },
    el('option', { value: '' }, 'all events'),
    ...EVENT_TYPES.map((t) => el('option', { value: t }, t)));
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
