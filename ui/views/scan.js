// Scan mode: one QR after another for whoever holds the phones. The view's state is one small
// object (what is queued, skipped and shown, and the generation that stale async work checks);
// the steps below take {s: that state, ui: the view's elements}.
import * as api from '../api.js';
import { el, fmtTime } from '../dom.js';
import { explain } from '../feedback.js';
import { session, serverNow } from '../session.js';
import { queueList, tickWaits, scanLinkBox } from '../widgets.js';

function scanState(requestedId) {
  return {
    queue: [],              // /needs-scan items, longest waiting first
    skipped: new Set(),     // ids the operator skipped
    current: requestedId ? Number(requestedId) : null,
    currentName: '',
    generation: 0,          // bumped when the shown instance changes: older polls stop
    imgUrl: null,           // blob: URL of the shown QR
    shownFetchedAt: null,   // fetchedAt of the shown QR
    expiresAt: null,
    timer: null,            // the next poll
    leaving: false,         // the current instance left the queue; moving on
  };
}

function scanElements(ctx) {
  const img = el('img', { id: 'qr-img', alt: 'QR code to scan with WhatsApp', hidden: '' });
  const note = el('div', { class: 'qr-note', id: 'qr-note' }, 'Loading…');
  const box = el('div', { class: 'qr-box', id: 'qr-box' }, img, note);
  const name = el('p', { class: 'scan-name', id: 'scan-name' }, '');
  const countdown = el('p', { class: 'countdown', id: 'qr-countdown', 'aria-live': 'off' }, '');
  const status = el('p', { class: 'muted', id: 'scan-status', role: 'status' }, '');
  const skipBtn = el('button', { type: 'button', class: 'btn', id: 'skip', onclick: () => skip(ctx) },
    'Skip');
  const openBtn = el('a', { class: 'btn', id: 'open-instance', href: '#/instances' }, 'Details');
  const linkBox = scanLinkBox();
  const linkBtn = session.role === 'admin'
    ? el('button', { type: 'button', class: 'btn', id: 'create-scan-link',
      onclick: () => ctx.s.current !== null && linkBox.create(ctx.s.current) }, 'Create scan link')
    : null;
  const stage = el('section', { class: 'scan-stage card', 'aria-label': 'QR code' },
    name, box, countdown, status, el('div', { class: 'row' }, skipBtn, openBtn, linkBtn), linkBox.el);
  const side = el('div', {}, el('h2', {}, 'Queue'), el('div', { id: 'scan-queue' }));
  const root = el('div', {},
    el('div', { class: 'section-title' }, el('h1', {}, 'Scan mode'),
      el('span', { class: 'muted' }, 'Hand the phone over; the next QR appears when this one is scanned.')),
    el('div', { class: 'scan' }, stage, side));
  return { root, img, note, box, name, countdown, status, skipBtn, openBtn, linkBox, linkBtn, stage,
    side };
}

function setNote({ ui }, text, done = false) {
  ui.img.hidden = true;
  ui.note.hidden = false;
  ui.note.textContent = text;
  ui.box.classList.toggle('done', done);
}

function renderQueue(ctx) {
  ctx.ui.side.querySelector('#scan-queue').replaceChildren(
    queueList(ctx.s.queue, { currentId: ctx.s.current, onPick: (id) => show(ctx, id) }));
}

function show(ctx, id) {
  const { s, ui } = ctx;
  s.generation += 1;
  clearTimeout(s.timer);
  s.leaving = false;
  s.current = id;
  s.shownFetchedAt = null;
  s.expiresAt = null;
  ui.countdown.textContent = '';
  ui.status.textContent = '';
  ui.stage.dataset.currentId = id === null ? '' : String(id);
  ui.linkBox.hide();
  if (ui.linkBtn) ui.linkBtn.disabled = id === null;
  const item = s.queue.find((q) => q.id === id);
  s.currentName = item ? item.name || `#${id}` : id === null ? '' : `#${id}`;
  ui.name.textContent = s.currentName;
  ui.openBtn.href = id === null ? '#/instances' : `#/instances/${id}`;
  ui.skipBtn.disabled = id === null;
  renderQueue(ctx);
  if (id === null) {
    setNote(ctx, s.queue.length ? 'Every waiting instance was skipped.' : 'Nobody needs a scan right now.',
      !s.queue.length);
    return;
  }
  setNote(ctx, 'Fetching the QR code…');
  pollQr(ctx, s.generation);
}

function pickNext(ctx) {
  const { s } = ctx;
  const next = s.queue.find((q) => !s.skipped.has(q.id) && q.id !== s.current);
  show(ctx, next ? next.id : null);
}

function skip(ctx) {
  if (ctx.s.current !== null) ctx.s.skipped.add(ctx.s.current);
  pickNext(ctx);
}

// The current instance left needs-scan (scanned, most likely): say so, then move on.
function left(ctx, why) {
  const { s, ui } = ctx;
  if (s.leaving) return;
  s.leaving = true;
  s.generation += 1;
  clearTimeout(s.timer);
  ui.countdown.textContent = '';
  setNote(ctx, `✓ ${s.currentName} ${why}`, true);
  ui.status.textContent = 'Moving to the next instance…';
  const gen = s.generation;
  setTimeout(() => {
    if (gen !== s.generation) return;
    s.queue = s.queue.filter((q) => q.id !== s.current);
    pickNext(ctx);
  }, 1200);
}

// Loads and shows the QR image `info` describes. Returns the wait (ms) Green API asked for when
// the image is not ready yet, else null (shown, or this poll is stale).
async function showImage(ctx, gen, info) {
  const { s, ui } = ctx;
  const r = await api.qrImage(s.current);
  if (gen !== s.generation) return null;
  if (r.pending !== undefined) return r.pending * 1000;
  const url = URL.createObjectURL(r.blob);
  await new Promise((resolve) => {
    ui.img.onload = resolve;
    ui.img.onerror = resolve;
    ui.img.src = url;
  });
  if (s.imgUrl) URL.revokeObjectURL(s.imgUrl);
  s.imgUrl = url;
  if (gen !== s.generation) return null;
  s.shownFetchedAt = info.fetchedAt;
  ui.img.dataset.instanceId = String(s.current);
  ui.img.dataset.fetchedAt = info.fetchedAt;
  ui.img.hidden = false;
  ui.note.hidden = true;
  ui.box.classList.remove('done');
  ui.status.textContent = info.sessionEndsAt ? `Scan session until ${fmtTime(info.sessionEndsAt)}` : '';
  return null;
}

async function pollQr(ctx, gen) {
  const { s } = ctx;
  const again = (ms) => {
    if (gen === s.generation) s.timer = setTimeout(() => pollQr(ctx, gen), ms);
  };
  try {
    const info = await api.qrInfo(s.current);
    if (gen !== s.generation) return;
    if (info.pending !== undefined) {
      if (!s.shownFetchedAt) setNote(ctx, 'Waiting for Green API to hand out the first QR…');
      return again(info.pending * 1000);
    }
    if (info.type !== 'qrCode') {
      setNote(ctx, `Green API answered ${info.type}: ${info.message}`);
      return again(3000);
    }
    s.expiresAt = info.expiresAt;
    if (info.fetchedAt !== s.shownFetchedAt) {
      const pending = await showImage(ctx, gen, info);
      if (gen !== s.generation) return;
      if (pending !== null) return again(pending);
    }
    tick(ctx);
    again(2000);
  } catch (err) {
    if (gen !== s.generation) return;
    if (err instanceof api.ApiError && err.code === 'already_authorized') return left(ctx, 'is authorized');
    if (err instanceof api.ApiError && (err.code === 'not_needed' || err.status === 404)) {
      return left(ctx, 'no longer needs a scan');
    }
    setNote(ctx, explain(err));
    again(err instanceof api.ApiError && err.retryAfter ? err.retryAfter * 1000 : 3000);
  }
}

function tick(ctx) {
  const { s, ui } = ctx;
  tickWaits(ui.side);
  if (!s.expiresAt || s.leaving || s.current === null) return;
  const left_s = Math.max(0, Math.round((Date.parse(s.expiresAt) - serverNow()) / 1000));
  ui.countdown.replaceChildren('QR refreshes in ', el('strong', {}, String(left_s)), ' s');
}

async function refresh(ctx) {
  const { s } = ctx;
  const r = await api.get('/needs-scan?limit=100');
  s.queue = r.items;
  if (s.current !== null && !s.leaving && !s.queue.some((q) => q.id === s.current)) {
    renderQueue(ctx);
    left(ctx, 'left the queue');
    return;
  }
  if (s.current === null && !s.leaving) {
    pickNext(ctx);
    return;
  }
  renderQueue(ctx);
}

function onEvent(ctx, type, e) {
  if (e.id === ctx.s.current && type === 'state_changed' && e.toState !== 'notAuthorized') {
    left(ctx, e.toState === 'authorized' ? 'is authorized' : `is now ${e.toState}`);
  }
}

function destroy({ s }) {
  s.generation += 1;
  clearTimeout(s.timer);
  if (s.imgUrl) URL.revokeObjectURL(s.imgUrl);
}

export function scanView(requestedId) {
  const ctx = { s: scanState(requestedId), ui: null };
  ctx.ui = scanElements(ctx);
  return {
    el: ctx.ui.root,
    refresh: () => refresh(ctx),
    tick: () => tick(ctx),
    onEvent: (type, e) => onEvent(ctx, type, e),
    destroy: () => destroy(ctx),
  };
}
