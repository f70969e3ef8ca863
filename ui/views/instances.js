// Instances: the registry, filtered (name, state, attention, tag) and paged by cursor. The state
// and attention choices are /meta's lists.
import * as api from '../api.js';
import { el, badgeFor, fmtAgo, fmtTime, debounce } from '../dom.js';
import { toast, explain } from '../feedback.js';
import { session, serverNow } from '../session.js';

const PAGE_SIZE = 50;

function instanceRow(it) {
  return el('tr', { 'data-id': it.id },
    el('td', {}, el('a', { href: `#/instances/${it.id}` }, it.name || '(no name)')),
    el('td', { class: 'mono' }, String(it.id)),
    el('td', {}, badgeFor('state', it.state)),
    el('td', {}, badgeFor('attention', it.attention)),
    el('td', { class: 'hide-sm' }, it.stateSince ? fmtAgo(it.stateSince, serverNow()) : '—'),
    el('td', { class: 'hide-sm' }, it.lastCheckedAt ? fmtTime(it.lastCheckedAt) : '—'),
    el('td', { class: 'hide-sm' }, ...(it.tags || []).map((t) => el('span', { class: 'tag' }, t))));
}

export function instancesView(params) {
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
      select('state', session.meta.states, 'State'),
      select('attention', session.meta.attention, 'Attention'),
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
    tbody.replaceChildren(...(r.items.length ? r.items.map(instanceRow)
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
