// LED remote: [R, G, B] binary frames over ws://<host>/ws. See README.md.
'use strict';
(() => {
  const $ = (id) => document.getElementById(id);
  const statusEl = $('status'), swatch = $('swatch'), hexOut = $('hex'), power = $('power'),
    picker = $('picker'), knob = $('knob'), bright = $('brightness'), bval = $('bval'),
    hexIn = $('hex-input'), native = $('native');

  const token = new URLSearchParams(location.search).get('token');
  const query = token === null ? '' : '?token=' + encodeURIComponent(token); // passed on to /ws, /api and set-up

  const ACK_MS = 1500, GAP_MS = 40, CONNECT_MS = 5000, MIN_MS = 500, MAX_MS = 8000;

  // h 0-360, s and v 0-1; colours [r, g, b] 0-255
  const clamp = (x, lo, hi) => Math.min(hi, Math.max(lo, x));
  const hsv2rgb = (h, s, v) => [5, 3, 1].map((n) => {
    const k = (n + h / 60) % 6;
    return Math.round(255 * v * (1 - s * clamp(Math.min(k, 4 - k), 0, 1)));
  });
  const toHex = (c) => '#' + c.map((x) => x.toString(16).padStart(2, '0')).join('');
  const parseHex = (t) => {
    const m = /^#?([0-9a-f]{3}|[0-9a-f]{6})$/i.exec(t.trim());
    if (!m) return null;
    const x = m[1].length === 3 ? m[1].replace(/./g, '$&$&') : m[1];
    return [0, 2, 4].map((i) => parseInt(x.slice(i, i + 2), 16));
  };
  const same = (a, b) => !!a && !!b && a[0] === b[0] && a[1] === b[1] && a[2] === b[2];
  const black = (c) => !(c[0] || c[1] || c[2]);
  // WCAG luminance
  const lum = (c) => c.reduce((a, x, i) => {
    x /= 255;
    return a + [0.2126, 0.7152, 0.0722][i] * (x <= 0.04045 ? x / 12.92 : ((x + 0.055) / 1.055) ** 2.4);
  }, 0);

  let h = 0, s = 0, v = 0;
  let lastOn = [0, 0, 1]; // h, s, v that "on" restores: the last non-black colour, or white

  const current = () => hsv2rgb(h, s, v);

  function setFrom(c) { // keeps h (and s) where c has none
    const M = Math.max(...c), d = M - Math.min(...c);
    if (d) {
      const [r, g, b] = c;
      h = 60 * (M === r ? ((g - b) / d + 6) % 6 : M === g ? (b - r) / d + 2 : (r - g) / d + 4);
    }
    if (M) s = d / M;
    v = M / 255;
  }

  function render() {
    const c = current(), hex = toHex(c), pct = Math.round(v * 100);
    if (!black(c)) lastOn = [h, s, v];
    swatch.style.background = hex;
    swatch.classList.toggle('light', lum(c) > 0.179);
    hexOut.textContent = hex;
    if (document.activeElement !== hexIn) { hexIn.value = hex; hexIn.removeAttribute('aria-invalid'); }
    native.value = hex;
    knob.style.left = h / 3.6 + '%';
    knob.style.top = (1 - s) * 100 + '%';
    document.body.style.setProperty('--full', toHex(hsv2rgb(h, s, 1)));
    picker.setAttribute('aria-valuenow', Math.round(h));
    picker.setAttribute('aria-valuetext', `hue ${Math.round(h)}°, saturation ${Math.round(s * 100)}%`);
    bright.value = pct;
    bval.textContent = pct + '%';
    bright.setAttribute('aria-valuetext', bval.textContent);
    power.checked = !black(c);
  }

  function choose() { render(); want(current()); }

  // One colour in flight, at most one per GAP_MS; newer ones wait in `pending` for
  // any 3-byte message (the acknowledgement).
  let ws = null, led = null, inflight = null, pending = null, awaiting = false, misses = 0, attempt = 0;
  let ackTimer = 0, retryTimer = 0, tickTimer = 0, gapTimer = 0, sentAt = 0;

  const open = () => ws && ws.readyState === 1;
  const arm = (ms, fn) => { clearTimeout(ackTimer); ackTimer = setTimeout(fn, ms); };

  function want(c) {
    pending = same(c, inflight) ? null : c;
    flush();
  }

  function flush() {
    if (!pending || inflight || awaiting || gapTimer || !open()) return;
    if (same(pending, led)) { pending = null; return; }
    const wait = sentAt + GAP_MS - Date.now();
    if (wait > 0) { gapTimer = setTimeout(() => { gapTimer = 0; flush(); }, wait); return; }
    ws.send(new Uint8Array(pending));
    inflight = pending;
    pending = null;
    sentAt = Date.now();
    arm(ACK_MS, timeout);
  }

  function timeout() { // resend once, then reconnect
    const c = pending || inflight;
    inflight = null;
    awaiting = false;
    pending = c;
    if (++misses > 1 || !open()) drop(); else flush();
  }

  function receive(e) {
    if (!(e.data instanceof ArrayBuffer) || e.data.byteLength !== 3) return;
    const c = Array.from(new Uint8Array(e.data));
    led = c;
    inflight = null;
    awaiting = false;
    misses = 0;
    clearTimeout(ackTimer);
    if (same(pending, c)) pending = null;
    if (pending) return flush(); // ours is newer
    if (!same(c, current())) { setFrom(c); render(); }
  }

  function setStatus(state, text, after) {
    statusEl.dataset.state = state;
    statusEl.textContent = text;
    if (after) { // not announced
      const t = document.createElement('span');
      t.setAttribute('aria-hidden', 'true');
      t.textContent = after;
      statusEl.append(t);
    }
  }

  function connect() {
    clearTimeout(retryTimer);
    clearInterval(tickTimer);
    if (ws) return;
    setStatus('connecting', 'connecting…');
    const sock = ws = new WebSocket((location.protocol === 'https:' ? 'wss://' : 'ws://') + location.host + '/ws' + query);
    sock.binaryType = 'arraybuffer';
    arm(CONNECT_MS, drop);
    sock.onopen = () => {
      attempt = 0;
      setStatus('connected', 'connected');
      awaiting = true; // for the current colour
      arm(ACK_MS, timeout);
    };
    sock.onmessage = receive;
    sock.onclose = () => { ws = null; closed(); };
  }

  function drop() {
    if (ws) {
      ws.onopen = ws.onmessage = ws.onclose = null;
      ws.close();
      ws = null;
    }
    closed();
  }

  function closed() {
    clearTimeout(ackTimer);
    clearTimeout(retryTimer);
    clearInterval(tickTimer);
    pending = pending || inflight;
    inflight = null;
    awaiting = false;
    misses = 0;
    const ms = Math.min(MAX_MS, MIN_MS * 2 ** attempt) * (0.7 + Math.random() * 0.3);
    attempt = Math.min(attempt + 1, 8);
    const at = Date.now() + ms;
    const tick = () => navigator.onLine === false ? setStatus('offline', 'offline')
      : setStatus('reconnecting', 'reconnecting', ` in ${Math.max(1, Math.ceil((at - Date.now()) / 1000))}s`);
    tick();
    tickTimer = setInterval(tick, 1000);
    retryTimer = setTimeout(connect, ms);
  }

  const now = () => { if (!ws) { attempt = 0; connect(); } };
  addEventListener('online', now);
  document.addEventListener('visibilitychange', () => { if (!document.hidden) now(); });
  addEventListener('pagehide', () => { drop(); clearTimeout(retryTimer); clearInterval(tickTimer); });
  addEventListener('pageshow', (e) => { if (e.persisted) now(); });

  // Controls
  let dragging = false;
  function pick(e) {
    const r = picker.getBoundingClientRect();
    h = clamp((e.clientX - r.left) / r.width, 0, 1) * 360;
    s = 1 - clamp((e.clientY - r.top) / r.height, 0, 1);
    if (!v) v = lastOn[2] || 1;
    choose();
  }
  picker.addEventListener('pointerdown', (e) => {
    if (e.button) return;
    dragging = true;
    picker.setPointerCapture(e.pointerId);
    picker.focus({ preventScroll: true });
    pick(e);
    e.preventDefault();
  });
  picker.addEventListener('pointermove', (e) => { if (dragging) pick(e); });
  const stop = () => { dragging = false; };
  picker.addEventListener('pointerup', stop);
  picker.addEventListener('pointercancel', stop);
  picker.addEventListener('keydown', (e) => {
    const big = e.shiftKey, k = e.key;
    const dh = { ArrowLeft: -1, ArrowRight: 1 }[k], ds = { ArrowDown: -1, ArrowUp: 1 }[k];
    if (dh) h = (h + dh * (big ? 30 : 5) + 360) % 360;
    else if (ds) s = clamp(s + ds * (big ? 0.2 : 0.05), 0, 1);
    else return;
    e.preventDefault();
    if (!v) v = lastOn[2] || 1;
    choose();
  });

  bright.addEventListener('input', () => { v = bright.value / 100; choose(); });

  power.addEventListener('change', () => {
    if (power.checked) [h, s, v] = lastOn; else v = 0;
    choose();
  });

  function useHex(text) {
    const c = parseHex(text);
    if (!c) return false;
    setFrom(c);
    choose();
    return true;
  }
  const commitHex = () => {
    if (useHex(hexIn.value)) { hexIn.value = hexOut.textContent; hexIn.removeAttribute('aria-invalid'); }
    else hexIn.setAttribute('aria-invalid', 'true');
  };
  hexIn.addEventListener('change', commitHex);
  hexIn.addEventListener('keydown', (e) => { if (e.key === 'Enter') commitHex(); });
  hexIn.addEventListener('blur', render);
  native.addEventListener('input', () => useHex(native.value));
  $('presets').addEventListener('click', (e) => { const c = e.target.dataset.c; if (c) useHex(c); });
  for (const b of document.querySelectorAll('[data-c]')) b.style.background = '#' + b.dataset.c;

  render();
  connect();

  $('setup').search = query;
  fetch('/api/info' + query).then((r) => r.json()).then((info) => {
    if (info.name) $('name').textContent = document.title = info.name;
  }).catch(() => {}); // an older device (404): stays "LED"
})();
