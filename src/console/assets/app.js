// The risk console: plain browser JavaScript over the public API (no build step, no CDN).
// The API key lives in sessionStorage for this tab only; every call sends it as a Bearer token.
// The live stream is read with fetch (EventSource cannot send an Authorization header).

const $ = (sel) => document.querySelector(sel);
const state = { key: sessionStorage.getItem('threeflow.key'), me: null, rows: new Map(), order: [], cursor: null, selected: null, stream: null };

async function api(method, path, body) {
  const res = await fetch(path, {
    method,
    headers: { authorization: `Bearer ${state.key}`, ...(body ? { 'content-type': 'application/json', 'idempotency-key': crypto.randomUUID() } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  const type = res.headers.get('content-type') ?? '';
  const data = type.includes('json') ? await res.json() : await res.text();
  if (!res.ok) throw new Error(typeof data === 'object' && data?.detail ? data.detail : `${res.status} ${res.statusText}`);
  return data;
}

const text = (value) => document.createTextNode(value ?? '');
function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === 'class') node.className = v;
    else if (k.startsWith('on')) node.addEventListener(k.slice(2), v);
    else node.setAttribute(k, v);
  }
  for (const c of children) node.append(typeof c === 'string' ? text(c) : c);
  return node;
}
const when = (iso) => (iso ? new Date(iso).toLocaleString() : '—');

// ---- sign-in ----------------------------------------------------------------

async function signIn(key) {
  state.key = key;
  const me = await api('GET', '/v1/me');
  if (!['risk_officer', 'credit_officer'].includes(me.user.role)) throw new Error(`The console is for a bank's risk and credit officers; this key belongs to a ${me.user.role}`);
  state.me = me;
  sessionStorage.setItem('threeflow.key', key);
  $('#login').hidden = true;
  $('#desk').hidden = false;
  $('#who').hidden = false;
  $('#who-name').textContent = `${me.user.displayName} · ${me.organization.name} · ${me.user.role}`;
  await loadSignals(true);
  startStream();
}

function signOut() {
  sessionStorage.removeItem('threeflow.key');
  state.stream?.abort();
  location.reload();
}

// ---- the signal list ----------------------------------------------------------

function filters() {
  const f = new FormData($('#filters'));
  const q = new URLSearchParams({ limit: '50' });
  for (const name of ['status', 'severity', 'rule', 'businessDate']) if (f.get(name)) q.set(name, String(f.get(name)));
  if (f.get('mine')) q.set('assigneeUserId', state.me.user.id);
  return q;
}

function matchesFilters(s) {
  const f = new FormData($('#filters'));
  if (f.get('status') && s.status !== f.get('status')) return false;
  if (f.get('severity') && s.severity !== f.get('severity')) return false;
  if (f.get('rule') && s.rule !== f.get('rule')) return false;
  if (f.get('businessDate') && s.businessDate !== f.get('businessDate')) return false;
  if (f.get('mine') && s.assigneeUserId !== state.me.user.id) return false;
  return true;
}

async function loadSignals(reset) {
  $('#list-error').textContent = '';
  if (reset) {
    state.rows.clear();
    state.order = [];
    state.cursor = null;
  }
  try {
    const q = filters();
    if (state.cursor) q.set('cursor', state.cursor);
    const page = await api('GET', `/v1/signals?${q}`);
    for (const s of page.items) upsert(s, false);
    state.cursor = page.nextCursor;
    $('#more').hidden = !state.cursor;
    render();
  } catch (e) {
    $('#list-error').textContent = e.message;
  }
}

function upsert(signal, fresh) {
  if (!state.rows.has(signal.id)) state.order.push(signal.id);
  state.rows.set(signal.id, { ...signal, fresh });
}

function render() {
  const body = $('#signals tbody');
  body.replaceChildren();
  const rows = state.order.map((id) => state.rows.get(id)).filter(matchesFilters);
  // Worst first, then the most recently seen.
  const rank = { red: 0, orange: 1, yellow: 2 };
  rows.sort((a, b) => rank[a.severity] - rank[b.severity] || b.lastSeenAt.localeCompare(a.lastSeenAt));
  for (const s of rows) {
    const tr = el(
      'tr',
      { 'data-id': s.id, class: `${s.fresh ? 'fresh' : ''} ${state.selected === s.id ? 'selected' : ''}`, onclick: () => select(s.id) },
      el('td', {}, el('span', { class: `sev ${s.severity}`, title: s.severity })),
      el('td', {}, s.rule),
      el('td', {}, `${s.subjectType} ${s.subjectId.slice(0, 12)}`),
      el('td', {}, s.businessDate ?? '—'),
      el('td', { class: 'status' }, s.status.replace('_', ' ') + (s.awaitingSecondOfficer ? ' (awaiting 2nd officer)' : '')),
      el('td', {}, when(s.lastSeenAt)),
      el('td', {}, String(s.occurrences)),
    );
    body.append(tr);
    s.fresh = false;
  }
  if (!rows.length) body.append(el('tr', {}, el('td', { colspan: '7' }, 'No signals match.')));
  if (state.selected) renderDetail();
}

// ---- one signal -----------------------------------------------------------------

function select(id) {
  state.selected = id;
  render();
}

function renderDetail() {
  const s = state.rows.get(state.selected);
  const box = $('#detail');
  if (!s) {
    box.hidden = true;
    return;
  }
  box.hidden = false;
  const note = el('textarea', { id: 'note', placeholder: 'Note (required): what you saw, what you did' });
  const error = el('p', { class: 'error', role: 'alert' });
  const act = (label, path, body) =>
    el('button', {
      type: 'button',
      'data-action': label,
      onclick: async () => {
        error.textContent = '';
        try {
          const answer = await api('POST', `/v1/signals/${s.id}/${path}`, body());
          upsert(answer.signal ?? answer, true);
          render();
        } catch (e) {
          error.textContent = e.message;
        }
      },
    }, label);
  const isOfficer = state.me.user.role === 'risk_officer';
  const closed = s.status === 'resolved' || s.status === 'false_positive';
  box.replaceChildren(
    el('h3', {}, el('span', { class: `sev ${s.severity}` }), ` ${s.rule}`),
    el(
      'dl',
      {},
      el('dt', {}, 'Subject'), el('dd', {}, `${s.subjectType} ${s.subjectId}`),
      el('dt', {}, 'Business day'), el('dd', {}, s.businessDate ?? '—'),
      el('dt', {}, 'Status'), el('dd', { id: 'detail-status' }, s.status + (s.statusNote ? ` — ${s.statusNote}` : '')),
      el('dt', {}, 'First / last seen'), el('dd', {}, `${when(s.firstSeenAt)} / ${when(s.lastSeenAt)} (${s.occurrences}×)`),
      el('dt', {}, 'Credit line'), el('dd', {}, s.creditLineId ?? '—'),
      el('dt', {}, 'Assignee'), el('dd', {}, s.assigneeUserId === state.me.user.id ? 'you' : (s.assigneeUserId ?? '—')),
      el('dt', {}, 'Linked to'), el('dd', {}, s.linkedSignalId ?? '—'),
      el('dt', {}, 'Automatic actions'), el('dd', {}, s.actions.length ? s.actions.map((a) => `${a.action} at ${when(a.at)}`).join('; ') : '—'),
      ...(s.proposal ? [el('dt', {}, 'Proposal'), el('dd', {}, `${s.proposal.resolution} by ${s.proposal.proposedBy}: ${s.proposal.note ?? ''}`)] : []),
    ),
    el('h4', {}, 'Evidence'),
    el('pre', {}, JSON.stringify(s.evidence, null, 2)),
    ...(isOfficer && !closed
      ? [
          note,
          el(
            'div',
            { class: 'actions' },
            ...(s.status === 'open' ? [act('Acknowledge', 'acknowledge', () => ({ note: note.value }))] : []),
            act('Resolve', 'resolve', () => ({ resolution: 'resolved', note: note.value })),
            act('False positive', 'resolve', () => ({ resolution: 'false_positive', note: note.value })),
            act('Assign to me', 'assign', () => ({ assigneeUserId: state.me.user.id })),
          ),
          error,
        ]
      : []),
  );
}

// ---- live updates ---------------------------------------------------------------

async function startStream() {
  let delay = 1000;
  for (;;) {
    const controller = new AbortController();
    state.stream = controller;
    try {
      const res = await fetch('/v1/signals/stream', { headers: { authorization: `Bearer ${state.key}` }, signal: controller.signal });
      // A key no longer valid (or a role without the stream) will not get better by retrying.
      if (res.status === 401 || res.status === 403) {
        $('#list-error').textContent = 'The live stream refused this key; sign in again.';
        return;
      }
      if (!res.ok) throw new Error(`stream: ${res.status}`);
      const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
      let buffer = '';
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buffer += value;
        let end;
        while ((end = buffer.indexOf('\n\n')) >= 0) {
          onEvent(buffer.slice(0, end));
          buffer = buffer.slice(end + 2);
        }
      }
    } catch (e) {
      if (controller.signal.aborted) return;
    }
    $('#live').className = 'live off';
    await new Promise((r) => setTimeout(r, delay));
    delay = Math.min(delay * 2, 30_000);
  }
}

function onEvent(block) {
  let event = 'message';
  let data = '';
  for (const line of block.split('\n')) {
    if (line.startsWith('event:')) event = line.slice(6).trim();
    else if (line.startsWith('data:')) data += line.slice(5).trim();
  }
  if (event === 'revoked') {
    $('#live').className = 'live off';
    $('#list-error').textContent = 'Your key was revoked; sign in again.';
    state.stream?.abort();
    return;
  }
  if (event === 'ready') {
    $('#live').className = 'live on';
    return;
  }
  if (!event.startsWith('signal.') || !data) return;
  upsert(JSON.parse(data), true);
  render();
}

// ---- digest ------------------------------------------------------------------------

async function showDigest(date) {
  try {
    $('#digest').textContent = await api('GET', `/v1/signals/digest?format=text${date ? `&date=${date}` : ''}`);
  } catch (e) {
    $('#digest').textContent = e.message;
  }
}

// ---- wiring ----------------------------------------------------------------------------

$('#login').addEventListener('submit', async (e) => {
  e.preventDefault();
  $('#login-error').textContent = '';
  try {
    await signIn($('#key').value.trim());
  } catch (err) {
    state.key = null;
    $('#login-error').textContent = err.message;
  }
});
$('#logout').addEventListener('click', signOut);
$('#filters').addEventListener('submit', (e) => {
  e.preventDefault();
  loadSignals(true);
});
$('#more').addEventListener('click', () => loadSignals(false));
for (const b of document.querySelectorAll('nav button')) {
  b.addEventListener('click', () => {
    for (const o of document.querySelectorAll('nav button')) o.classList.toggle('active', o === b);
    $('#tab-signals').hidden = b.dataset.tab !== 'signals';
    $('#tab-digest').hidden = b.dataset.tab !== 'digest';
    if (b.dataset.tab === 'digest') showDigest();
  });
}
$('#digest-form').addEventListener('submit', (e) => {
  e.preventDefault();
  showDigest(new FormData(e.target).get('date'));
});
if (state.key) signIn(state.key).catch(() => sessionStorage.removeItem('threeflow.key'));
