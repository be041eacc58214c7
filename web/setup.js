// LED set-up page: Wi-Fi network, device name and token over /api/setup. See README.md.
'use strict';
(() => {
  const $ = (id) => document.getElementById(id);
  const modeEl = $('mode'), errorEl = $('error'), formError = $('form-error'), form = $('form'), scan = $('scan'),
    ssid = $('ssid'), password = $('password'), name = $('device-name'), token = $('token');
  const query = (t) => (t ? '?token=' + encodeURIComponent(t) : '');
  const pageToken = new URLSearchParams(location.search).get('token') || '';
  let q = query(pageToken), state, timer;

  token.value = pageToken; // keeps the device's token unless changed
  $('home').href = './' + q;

  async function api(path, body) {
    const r = await fetch('/api/' + path + q, body && {
      method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body),
    }).catch(() => { throw new Error('No answer from the device.'); });
    const json = await r.json().catch(() => ({}));
    if (!r.ok) throw new Error(json.error || 'HTTP ' + r.status);
    return json;
  }

  const link = (url) => Object.assign(document.createElement('a'), { href: url + q, textContent: url });

  function render(s) {
    const port = location.port ? ':' + location.port : '', online = s.mode === 'online';
    if (!state) { name.value = s.name; ssid.value = s.ssid || ''; }
    state = s;
    $('name').textContent = document.title = s.name;
    const urls = online ? [`http://${s.name}.local${port}/`, s.address && `http://${s.address}${port}/`].filter(Boolean) : [];
    const text = s.mode === 'joining' ? `Joining ${s.ssid}…` : online ? 'Connected: open ' + urls.join(' or ') : 'Set-up';
    if (modeEl.textContent !== text) { // a live region: real changes only
      modeEl.textContent = online ? 'Connected: open ' : text;
      urls.forEach((u, i) => modeEl.append(i ? ' or ' : '', link(u)));
    }
    modeEl.dataset.mode = s.mode;
    errorEl.textContent = s.error ? 'Could not join: ' + s.error : '';
    form.hidden = s.mode === 'joining';
    scan.disabled = s.scanning;
    const nets = (s.networks || []).sort((a, b) => b.rssi - a.rssi);
    const rows = nets.map((n) => `${n.ssid} · ${n.rssi} dBm${n.secure ? ' 🔒' : ''}`);
    if (rows + '' !== $('networks').dataset.rows) { // do not rebuild (and lose focus) on every poll
      $('networks').dataset.rows = rows;
      $('networks').replaceChildren(...rows.map((text, i) => {
        const li = document.createElement('li');
        li.append(Object.assign(document.createElement('button'), { type: 'button', textContent: text, value: nets[i].ssid }));
        return li;
      }));
    }
  }

  // Polls once a second while the device scans or joins.
  async function poll() {
    try {
      render(await api('setup'));
    } catch (e) {
      errorEl.textContent = e.message;
    }
    next();
  }
  function next() {
    clearTimeout(timer);
    if (state && (state.mode === 'joining' || state.scanning)) timer = setTimeout(poll, 1000);
  }

  $('networks').onclick = (e) => {
    if (e.target.value) { ssid.value = e.target.value; password.focus(); }
  };
  scan.onclick = () => {
    scan.disabled = true;
    api('setup/scan', {}).then(poll, (e) => { errorEl.textContent = e.message; scan.disabled = false; });
  };
  $('show').onchange = (e) => { password.type = e.target.checked ? 'text' : 'password'; };

  form.onsubmit = async (e) => {
    e.preventDefault();
    const body = { ssid: ssid.value, password: password.value, name: name.value, token: token.value };
    formError.textContent = '';
    try {
      const s = await api('setup', body);
      q = query(body.token); // the device's token from now on
      render(s);
      next();
    } catch (err) {
      formError.textContent = err.message;
    }
  };

  poll();
})();
