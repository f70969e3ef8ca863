// Telling the operator: toasts, the confirmation dialog, API errors in words, and the
// confirmed operator actions (poll, logout, reboot).
import * as api from './api.js';
import { el, fmtTime } from './dom.js';

const $ = (id) => document.getElementById(id);

export function toast(text, kind = '') {
  const t = el('div', { class: `toast ${kind}` }, text);
  $('toasts').append(t);
  setTimeout(() => t.remove(), 6000);
}

export function confirmAction(title, text) {
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

export function explain(err) {
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
export async function runAction(id, action, name) {
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
