// Pieces more than one view shows: the needs-scan queue with its ticking waits, the
// "Create scan link" box, and one line of the event feed.
import * as api from './api.js';
import { el, badgeFor, fmtAgo, fmtTime, describeEvent } from './dom.js';
import { explain } from './feedback.js';
import { serverNow } from './session.js';

export function queueList(items, { currentId = null, onPick = null } = {}) {
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

export function tickWaits(root) {
  for (const w of root.querySelectorAll('[data-since]')) {
    w.textContent = fmtAgo(w.dataset.since, serverNow());
  }
}

// "Create scan link" (admin): a link the phone holder opens without a key, shown to copy and as
// a QR code (rendered by the server) to photograph.
export function scanLinkBox() {
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

export function eventItem(e) {
  return el('li', { 'data-seq': e.seq },
    el('time', { datetime: e.at, title: e.at }, fmtTime(e.at)),
    el('span', {}, badgeFor('event', e.type)),
    el('span', { class: 'what' },
      el('a', { href: `#/instances/${e.id}` }, `#${e.id}`), ' ', describeEvent(e)));
}
