// greenfleet dashboard: sign-in, the session (summary, role, /meta vocabulary) and the event
// stream that keeps the mounted view live. Views live in views/, routing in router.js.
import * as api from './api.js';
import { clear, debounce } from './dom.js';
import { explain } from './feedback.js';
import { currentView, mount, refreshView, unmount } from './router.js';
import { session } from './session.js';
import { summaryTiles } from './views/overview.js';

let stream = null;

const $ = (id) => document.getElementById(id);

async function loadSummary() {
  const s = await api.get('/summary');
  session.summary = s;
  session.clockOffsetMs = Date.parse(s.generatedAt) - Date.now();
  const box = $('summary');
  if (box) box.replaceChildren(summaryTiles(s));
  return s;
}

const refreshAll = debounce(() => {
  loadSummary().catch(() => {});
  refreshView();
}, 300);

const refreshSummary = debounce(() => loadSummary().catch(() => {}), 300);

function onStreamEvent(type, data) {
  const view = currentView();
  let wantsRefresh = true;
  if (view && view.onEvent) wantsRefresh = view.onEvent(type, data) !== false;
  if (wantsRefresh) refreshAll();
  else refreshSummary();
}

function setLive(state) {
  const live = $('live');
  live.dataset.state = state;
  live.querySelector('.live-text').textContent = { live: 'live', connecting: 'connecting…', offline: 'reconnecting…' }[state];
}

function showLogin(message = '') {
  if (stream) stream.stop();
  stream = null;
  unmount();
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
    const [me, meta] = await Promise.all([api.get('/me'), api.get('/meta')]);
    session.role = me.role;
    session.meta = meta;
  } catch (err) {
    api.setKey('');
    showLogin(err instanceof api.ApiError && err.status === 401
      ? 'That key is unknown or revoked.' : explain(err));
    return;
  }
  $('login').hidden = true;
  document.querySelector('.nav').hidden = false;
  document.querySelector('.session').hidden = false;
  stream = new api.EventStream({ onEvent: onStreamEvent, onStatus: setLive });
  stream.start();
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
  setInterval(() => {
    const view = currentView();
    if (view && view.tick) view.tick();
  }, 1000);
  setInterval(() => { if (stream) refreshAll(); }, 15000);
  if (api.getKey()) start();
  else showLogin();
}

init();
