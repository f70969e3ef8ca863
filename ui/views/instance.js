// One instance: its status facts, the operator actions an admin key may run, a scan link, and
// its state history.
import * as api from '../api.js';
import { el, badgeFor, fmtAgo, fmtTime } from '../dom.js';
import { runAction } from '../feedback.js';
import { session, serverNow } from '../session.js';
import { eventItem, scanLinkBox } from '../widgets.js';

const fact = (k, v) => [el('dt', {}, k), el('dd', {}, v)];

function facts(it) {
  return [
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
    ...fact('webhook', it.webhook || '—'),
    ...fact('tags', (it.tags || []).join(', ') || '—'),
    ...fact('enabled', it.enabled ? 'yes' : 'no'),
    ...fact('scan session', it.scanSession ? 'running' : 'no'),
  ];
}

export function instanceView(id) {
  const factList = el('dl', { class: 'facts', id: 'instance-facts' });
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
        factList,
        el('div', { class: 'row actions' },
          ...(session.role === 'admin'
            ? [actionBtn('poll', 'Poll now'), actionBtn('logout', 'Log out', 'btn-danger'),
               actionBtn('reboot', 'Reboot', 'btn-danger'),
               el('button', { type: 'button', class: 'btn', id: 'create-scan-link',
                 onclick: () => linkBox.create(id) }, 'Create scan link')]
            : []),
          el('a', { class: 'btn btn-primary', href: `#/scan/${id}`, id: 'scan-this' }, 'Show QR')),
        linkBox.el,
        session.role === 'admin'
          ? message
          : el('p', { class: 'note', id: 'read-only-note' },
            'This key is read-only: poll, log out and reboot need an admin key.')),
      el('section', { 'aria-label': 'State history' }, el('h2', {}, 'History'), history)));

  const refresh = async () => {
    const [it, ev] = await Promise.all([api.get(`/instances/${id}`),
      api.get(`/instances/${id}/events?limit=100`)]);
    instanceName = it.name || `#${id}`;
    title.textContent = instanceName;
    factList.replaceChildren(...facts(it));
    history.replaceChildren(...(ev.items.length ? ev.items.map(eventItem)
      : [el('li', { class: 'empty' }, 'No events yet.')]));
  };
  const onEvent = (type, e) => e.id === id;
  return { el: root, refresh, onEvent };
}
