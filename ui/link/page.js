// The scan link page: polls its own state (same origin, relative to the page's path, so the
// page's HTML never holds the link's token), shows the QR as it rotates, counts down to expiry,
// offers phone-number pairing, and says "Connected" once the phone is linked.
'use strict';

(() => {
  const base = location.pathname.replace(/\/+$/, '');
  const $ = (id) => document.getElementById(id);
  const qr = $('qr');
  const qrWait = $('qr-wait');
  const status = $('status');
  const expiry = $('expiry');
  let qrVersion = null;
  let deadline = null; // Date.now() at which the link expires
  let timer = null;
  let ended = false;

  const show = (el, on) => { el.hidden = !on; };
  const setStatus = (text) => { status.textContent = text; };

  function formatLeft(ms) {
    const s = Math.max(0, Math.round(ms / 1000));
    return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`;
  }

  function tick() {
    if (ended || deadline === null) return;
    const left = deadline - Date.now();
    expiry.textContent = left > 0 ? `This link is valid for ${formatLeft(left)}.` : 'This link has expired.';
  }

  function end(connected) {
    ended = true;
    clearTimeout(timer);
    show($('scan'), false);
    show($('pair'), false);
    show($('toggle').parentElement, false);
    show(expiry, false);
    if (connected) {
      show($('done'), true);
      document.title = 'Connected';
    } else {
      $('name').textContent = 'This link is not available';
      show(expiry, true);
      expiry.textContent = 'It may have expired or been used already. Ask for a new one.';
    }
  }

  function showQr(version) {
    if (version === qrVersion) return;
    qrVersion = version;
    const next = new Image();
    next.onload = () => {
      qr.src = next.src;
      show(qr, true);
      show(qrWait, false);
    };
    next.src = `${base}/qr.png?v=${encodeURIComponent(version)}`;
  }

  function hideQr(text) {
    qrVersion = null;
    show(qr, false);
    show(qrWait, true);
    qrWait.textContent = text;
  }

  async function poll() {
    let wait = 2000;
    try {
      const res = await fetch(`${base}/state`, { cache: 'no-store', credentials: 'omit' });
      if (res.status === 404 || res.status === 410) return end(false);
      if (res.status === 429) {
        wait = 1000 * Number(res.headers.get('Retry-After') || 5);
        setStatus('Busy — retrying in a moment…');
      } else if (res.ok) {
        const s = await res.json();
        if (s.state === 'connected') return end(true);
        if (typeof s.secondsLeft === 'number') deadline = Date.now() + s.secondsLeft * 1000;
        wait = 1000 * (s.pollSeconds || 2);
        if (s.state === 'qr') {
          showQr(s.qrVersion);
          setStatus('Scan the code with WhatsApp. It changes every few seconds; this page follows.');
        } else if (s.state === 'paused') {
          hideQr('The code is paused for a moment.');
          setStatus(`WhatsApp limits how long a code may be shown. It comes back in about ` +
            `${s.retryAfterSeconds} s — or link with the phone number instead.`);
        } else {
          hideQr('Preparing the code…');
          setStatus('Waiting for the code…');
        }
      } else {
        setStatus('Having trouble reaching the server — retrying…');
      }
    } catch {
      setStatus('Offline? Retrying…');
    }
    tick();
    if (!ended) timer = setTimeout(poll, wait);
  }

  // Phone-number pairing.
  const toggle = $('toggle');
  toggle.addEventListener('click', () => {
    const pairing = $('pair').hidden;
    show($('pair'), pairing);
    show($('scan'), !pairing);
    toggle.textContent = pairing ? 'Scan a QR code instead' : 'Link with phone number instead';
    if (pairing) $('phone').focus();
  });

  let codeTimer = null;
  $('pair-form').addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const error = $('pair-error');
    show(error, false);
    let digits = $('phone').value.replace(/[\s\-().]/g, '');
    if (digits.startsWith('+')) digits = digits.slice(1);
    else if (digits.startsWith('00')) digits = digits.slice(2);
    if (!/^[1-9][0-9]{9,14}$/.test(digits)) {
      error.textContent = 'Use 10 to 15 digits, country code first (e.g. 441234567890).';
      show(error, true);
      return;
    }
    const button = $('pair-submit');
    button.disabled = true;
    try {
      const res = await fetch(`${base}/pairing-code`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ phoneNumber: Number(digits) }),
        credentials: 'omit',
      });
      if (res.status === 404 || res.status === 410) return end(false);
      const body = await res.json().catch(() => ({}));
      if (!res.ok) {
        const retry = res.headers.get('Retry-After');
        error.textContent = (body.error && body.error.message) || 'No code this time; try again.';
        if (retry) error.textContent += ` (try again in ${retry} s)`;
        show(error, true);
        return;
      }
      const code = String(body.code || '');
      $('pair-code').textContent = code.length === 8 ? `${code.slice(0, 4)}-${code.slice(4)}` : code;
      show($('pair-code-box'), true);
      const until = Date.now() + 1000 * (body.lifetimeSeconds || 150);
      clearInterval(codeTimer);
      const left = () => {
        const ms = until - Date.now();
        $('pair-code-left').textContent = ms > 0
          ? `The code is valid for ${formatLeft(ms)}.` : 'The code has expired; ask for a new one.';
        if (ms <= 0) clearInterval(codeTimer);
      };
      left();
      codeTimer = setInterval(left, 1000);
    } catch {
      error.textContent = 'Could not reach the server; try again.';
      show(error, true);
    } finally {
      button.disabled = false;
    }
  });

  setInterval(tick, 1000);
  poll();
})();
