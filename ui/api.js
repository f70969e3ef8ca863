// The dashboard's only door to greenfleet: /api/v1 with the operator's key (Authorization:
// Bearer), kept in sessionStorage for this tab only. No other endpoint is used.

const KEY_STORAGE = 'greenfleet.apiKey';

export class ApiError extends Error {
  constructor(status, code, message, retryAfter = null) {
    super(message);
    this.status = status;
    this.code = code;
    this.retryAfter = retryAfter;
  }
}

export function getKey() {
  return sessionStorage.getItem(KEY_STORAGE) || '';
}

export function setKey(key) {
  if (key) sessionStorage.setItem(KEY_STORAGE, key);
  else sessionStorage.removeItem(KEY_STORAGE);
}

// A key handed over in the URL (#key=...) is moved to sessionStorage and removed from the
// address bar and history at once.
export function takeKeyFromLocation() {
  const m = /^#key=([^&]+)/.exec(location.hash);
  if (!m) return false;
  setKey(decodeURIComponent(m[1]));
  history.replaceState(null, '', location.pathname + location.search + '#/');
  return true;
}

let onUnauthorized = () => {};
export function setUnauthorizedHandler(fn) {
  onUnauthorized = fn;
}

function headers(extra = {}) {
  return { Authorization: `Bearer ${getKey()}`, ...extra };
}

async function failure(res) {
  let code = `http_${res.status}`;
  let message = `${res.status} ${res.statusText}`;
  try {
    const body = await res.json();
    if (body && body.error) {
      code = body.error.code;
      message = body.error.message;
    }
  } catch {
    // not JSON: keep the status line
  }
  const retry = res.headers.get('Retry-After');
  const err = new ApiError(res.status, code, message, retry === null ? null : Number(retry));
  if (res.status === 401) onUnauthorized(err);
  return err;
}

export function query(params) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) {
    if (v !== undefined && v !== null && v !== '') q.set(k, String(v));
  }
  const s = q.toString();
  return s ? `?${s}` : '';
}

// GET or POST a JSON endpoint; resolves {status, body, headers}; throws ApiError on >= 400.
export async function request(method, path, { signal } = {}) {
  const res = await fetch(`/api/v1${path}`, {
    method,
    headers: headers({ Accept: 'application/json' }),
    signal,
    cache: 'no-store',
  });
  if (!res.ok) throw await failure(res);
  const body = res.status === 204 ? null : await res.json();
  return { status: res.status, body, headers: res.headers };
}

export const get = (path, opts) => request('GET', path, opts).then((r) => r.body);
export const post = (path, opts) => request('POST', path, opts).then((r) => r.body);

// The QR image as a Blob (PNG), or {pending: seconds} while the first QR is on its way (202).
export async function qrImage(id, { signal } = {}) {
  const res = await fetch(`/api/v1/instances/${id}/qr?format=png`, {
    headers: headers({ Accept: 'image/png' }),
    signal,
    cache: 'no-store',
  });
  if (res.status === 202) {
    return { pending: Number(res.headers.get('Retry-After') || 1) };
  }
  if (!res.ok) throw await failure(res);
  return { blob: await res.blob() };
}

// The QR as JSON ({type, message, fetchedAt, expiresAt, sessionEndsAt}) or {pending} (202).
export async function qrInfo(id, { signal } = {}) {
  const r = await request('GET', `/instances/${id}/qr`, { signal });
  if (r.status === 202) return { pending: Number(r.headers.get('Retry-After') || 1) };
  return r.body;
}

// The event stream (Server-Sent Events) read with fetch(), since EventSource cannot send the
// Authorization header. Reconnects with Last-Event-ID after a drop; onStatus('live' | 'connecting'
// | 'offline') tells the page.
export class EventStream {
  constructor({ onEvent, onStatus }) {
    this.onEvent = onEvent;
    this.onStatus = onStatus;
    this.lastId = null;
    this.retryMs = 2000;
    this.controller = null;
    this.stopped = true;
  }

  start() {
    if (!this.stopped) return;
    this.stopped = false;
    this.loop();
  }

  stop() {
    this.stopped = true;
    if (this.controller) this.controller.abort();
  }

  async loop() {
    while (!this.stopped) {
      this.onStatus('connecting');
      let wait = this.retryMs;
      try {
        await this.readOnce();
      } catch (err) {
        if (this.stopped) return;
        if (err instanceof ApiError && err.retryAfter) wait = err.retryAfter * 1000;
        if (err instanceof ApiError && err.status === 401) return;
      }
      if (this.stopped) return;
      this.onStatus('offline');
      await new Promise((r) => setTimeout(r, wait));
    }
  }

  async readOnce() {
    this.controller = new AbortController();
    const h = headers({ Accept: 'text/event-stream' });
    if (this.lastId !== null) h['Last-Event-ID'] = String(this.lastId);
    const res = await fetch('/api/v1/events/stream', {
      headers: h,
      signal: this.controller.signal,
      cache: 'no-store',
    });
    if (!res.ok) throw await failure(res);
    this.onStatus('live');
    const reader = res.body.getReader();
    const decoder = new TextDecoder();
    let buffer = '';
    let event = { id: null, type: 'message', data: [] };
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      buffer += decoder.decode(value, { stream: true });
      let nl;
      while ((nl = buffer.search(/\r\n|\r|\n/)) >= 0) {
        const line = buffer.slice(0, nl);
        buffer = buffer.slice(nl + (buffer.startsWith('\r\n', nl) ? 2 : 1));
        if (line === '') {
          if (event.data.length) this.dispatch(event);
          event = { id: null, type: 'message', data: [] };
          continue;
        }
        if (line.startsWith(':')) continue;  // heartbeat
        const colon = line.indexOf(':');
        const field = colon < 0 ? line : line.slice(0, colon);
        let val = colon < 0 ? '' : line.slice(colon + 1);
        if (val.startsWith(' ')) val = val.slice(1);
        if (field === 'data') event.data.push(val);
        else if (field === 'event') event.type = val;
        else if (field === 'id') event.id = val;
        else if (field === 'retry' && /^\d+$/.test(val)) this.retryMs = Number(val);
      }
    }
  }

  dispatch(event) {
    if (event.id !== null) this.lastId = event.id;
    let data;
    try {
      data = JSON.parse(event.data.join('\n'));
    } catch {
      return;
    }
    this.onEvent(event.type, data);
  }
}
