// Hash routes (#/, #/scan[/id], #/instances[?filters], #/instances/id, #/events) to views, and
// the one mounted view: {el, refresh?, onEvent?, tick?, destroy?}.
import * as api from './api.js';
import { toast, explain } from './feedback.js';
import { eventsView } from './views/events.js';
import { instanceView } from './views/instance.js';
import { instancesView } from './views/instances.js';
import { overviewView } from './views/overview.js';
import { scanView } from './views/scan.js';

let mounted = null;

// The view for the current location.hash: {nav (the highlighted link), make ()}.
export function route() {
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

export const currentView = () => mounted;

// Stops the mounted view (its timers and pending polls); the page keeps its elements.
export function unmount() {
  if (mounted && mounted.destroy) mounted.destroy();
  mounted = null;
}

export async function refreshView() {
  const view = mounted;
  if (!view || !view.refresh) return;
  try {
    await view.refresh();
  } catch (err) {
    if (view === mounted) toast(explain(err), 'bad');
  }
}

// Replaces the mounted view with the one the hash names (signed in only).
export function mount() {
  if (!api.getKey()) return;
  unmount();
  const { nav, make } = route();
  for (const a of document.querySelectorAll('[data-nav]')) {
    if (a.dataset.nav === nav) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
  mounted = make();
  document.getElementById('view').replaceChildren(mounted.el);
  refreshView();
}
