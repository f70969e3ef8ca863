// Small DOM and formatting helpers. Text always goes in as text nodes, never as HTML.

// el('a', {href: '#/', class: 'x', onclick: fn}, 'text', childNode, ...)
export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === null || v === undefined || v === false) continue;
    if (k.startsWith('on') && typeof v === 'function') node.addEventListener(k.slice(2), v);
    else if (k === 'value') node.value = v;
    else node.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children.flat()) {
    if (c === null || c === undefined || c === '') continue;
    node.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return node;
}

export function clear(node) {
  node.replaceChildren();
}

const KINDS = {
  state: { authorized: 'ok', notAuthorized: 'warn', blocked: 'bad', suspended: 'bad', yellowCard: 'warn',
    starting: 'info', sleepMode: 'info' },
  attention: { none: 'ok', needs_scan: 'warn', passkey_required: 'warn', credentials_rejected: 'bad', blocked: 'bad', suspended: 'bad',
    stuck_starting: 'warn', unreachable: 'bad', stale: 'warn' },
  event: { state_changed: 'info', attention_changed: 'warn', action: 'bad' },
};

export function badgeFor(kind, value) {
  const text = value === null || value === undefined ? 'unknown' : value;
  return el('span', { class: `badge ${(KINDS[kind] || {})[text] || ''}` }, text);
}

export function fmtSeconds(total) {
  const s = Math.max(0, Math.floor(total));
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m ${String(s % 60).padStart(2, '0')}s`;
  const h = Math.floor(m / 60);
  if (h < 48) return `${h}h ${String(m % 60).padStart(2, '0')}m`;
  return `${Math.floor(h / 24)}d ${h % 24}h`;
}

export function fmtAgo(iso, nowMs) {
  const t = Date.parse(iso);
  return Number.isNaN(t) ? '—' : fmtSeconds((nowMs - t) / 1000);
}

export function fmtTime(iso) {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return '—';
  const sameDay = d.toDateString() === new Date().toDateString();
  return sameDay ? d.toLocaleTimeString() : d.toLocaleString();
}

export function describeEvent(e) {
  switch (e.type) {
    case 'state_changed':
      return `${e.fromState ?? 'unknown'} → ${e.toState ?? 'unknown'} (${e.source})`;
    case 'attention_changed':
      return `attention: ${e.detail}`;
    case 'scan_session_started':
      return `QR scan session started${e.detail ? ` (${e.detail})` : ''}`;
    case 'scan_session_ended':
      return `QR scan session ended${e.detail ? ` (${e.detail})` : ''}`;
    case 'action':
      return `${e.detail}${e.actor ? ` by ${e.actor}` : ''}`;
    case 'scan_link':
      return `scan link ${e.detail}${e.actor ? ` by ${e.actor}` : ''}`;
    case 'pairing_code':
      return `pairing code requested (${e.detail})${e.actor ? ` by ${e.actor}` : ''}`;
    default:
      return e.detail || '';
  }
}

export function debounce(fn, ms) {
  let t = null;
  return (...args) => {
    clearTimeout(t);
    t = setTimeout(() => fn(...args), ms);
  };
}
