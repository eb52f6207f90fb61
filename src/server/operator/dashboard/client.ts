// The dashboard's browser code, inlined by page.ts into the page's <script type="module">.
// Compiled by the project's tsc (lib DOM) into client.js; it imports types only. It reads the base
// path from <html data-base>, takes the token from ?token= once (kept in sessionStorage, then
// dropped from the visible URL), follows {base}/api/gateway/events and updates the page in place.
// Types only: erased at compile time, so the page still loads nothing.
import type { GatewayEvent, GatewayStatus, KernelStatus } from '../gateway-status.js';

type Action = 'interrupt' | 'restart' | 'shutdown';

const base = document.documentElement.dataset.base ?? '';
const STORE_KEY = `kernel-gateway-token:${base}`;
const MAX_EVENTS = 100;
const STATES = ['idle', 'busy', 'starting', 'restarting', 'dead'];

const $ = <T extends HTMLElement>(id: string): T => document.getElementById(id) as T;

function el<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Record<string, string> = {}, text?: string): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  if (text !== undefined) e.textContent = text;
  return e;
}

function setText(e: Element, text: string): void {
  if (e.textContent !== text) e.textContent = text;
}

// ---- Token: from the URL once, then from sessionStorage (storage may be disabled). ----

let token = '';
try {
  token = sessionStorage.getItem(STORE_KEY) ?? '';
} catch {
  /* no storage: the token lives in this page only */
}
{
  const params = new URLSearchParams(location.search);
  const given = params.get('token');
  if (given !== null) {
    token = given;
    try {
      sessionStorage.setItem(STORE_KEY, given);
    } catch {
      /* as above */
    }
    params.delete('token');
    const query = params.toString();
    history.replaceState(history.state, '', location.pathname + (query ? `?${query}` : '') + location.hash);
  }
}

// ---- Formatting ----

function duration(seconds: number): string {
  const s = Math.max(0, Math.floor(seconds));
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${s % 60} s`;
  if (s < 86400) return `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min`;
  return `${Math.floor(s / 86400)} d ${Math.floor((s % 86400) / 3600)} h`;
}

const mb = (bytes: number | null): string => (bytes === null ? '–' : `${(bytes / 1048576).toFixed(1)} MB`);
// A negative figure is a stale baseline (a restarted kernel's new process): not shown.
const pct = (p: number | null): string => (p === null || p < 0 ? '–' : `${p.toFixed(1)} %`);
const rate = (r: number): string => `${r.toFixed(1)}/s`;
const count = (n: number): string => n.toLocaleString('en-US');

// ---- Gateway figures ----

function showGateway(s: GatewayStatus): void {
  const figures: Record<string, string> = {
    version: s.version,
    uptime: duration(s.uptime_seconds),
    rss: mb(s.process.rss_bytes),
    heap: mb(s.process.heap_used_bytes),
    cpu: pct(s.process.cpu_percent),
    rps: rate(s.rates.requests_per_second),
    mps: rate(s.rates.messages_per_second),
    eps: rate(s.rates.errors_per_second),
    requests: count(s.totals.requests),
    messages: count(s.totals.messages),
    errors: count(s.totals.errors),
    kernels: count(s.kernels.length),
  };
  document.querySelectorAll<HTMLElement>('[data-stat]').forEach((e) => {
    const v = figures[e.dataset.stat!];
    if (v !== undefined) setText(e, v);
  });
  document.querySelector('[data-stat="eps"]')?.parentElement?.classList.toggle('bad', s.rates.errors_per_second > 0);
  setText($('pid'), `pid ${s.process.pid}`);
}

// ---- Kernels ----

interface Row {
  tr: HTMLTableRowElement;
  cells: Record<string, HTMLElement>;
  note: HTMLElement;
  busy: boolean;
}

const rows = new Map<string, Row>();
const FIELDS: [field: string, label: string][] = [
  ['name', 'Kernel'],
  ['id', 'Id'],
  ['execution_state', 'State'],
  ['connections', 'Connections'],
  ['last_activity', 'Last activity'],
  ['uptime', 'Uptime'],
  ['restarts', 'Restarts'],
  ['pid', 'Pid'],
  ['memory', 'Memory'],
  ['cpu', 'CPU'],
];

function newRow(k: KernelStatus): Row {
  const tr = el('tr', { 'data-kernel-id': k.id });
  const cells: Record<string, HTMLElement> = {};
  for (const [field, label] of FIELDS) {
    const td = el('td', { 'data-label': label });
    const inner = field === 'execution_state' ? el('span', { class: 'badge', 'data-field': field }) : field === 'id' ? el('code', { 'data-field': field, title: k.id }) : td;
    if (inner !== td) td.append(inner);
    else td.dataset.field = field;
    cells[field] = inner;
    tr.append(td);
  }
  const actions = el('td', { class: 'actions', 'data-label': '' });
  const note = el('div', { class: 'note', role: 'status' });
  for (const [action, label] of [['interrupt', 'Interrupt'], ['restart', 'Restart'], ['shutdown', 'Shut down']] as [Action, string][]) {
    const b = el('button', { type: 'button', 'data-action': action, class: action === 'shutdown' ? 'danger' : '' }, label);
    b.addEventListener('click', () => void act(k.id, action, b));
    actions.append(b);
  }
  actions.append(note);
  tr.append(actions);
  return { tr, cells, note, busy: false };
}

function showKernels(s: GatewayStatus, serverNow: number): void {
  const tbody = $('kernels');
  const seen = new Set<string>();
  let previous: Element | null = null;
  for (const k of s.kernels) {
    seen.add(k.id);
    let row = rows.get(k.id);
    if (!row) {
      row = newRow(k);
      rows.set(k.id, row);
    }
    const c = row.cells;
    setText(c.name!, k.name);
    setText(c.id!, k.id.slice(0, 8));
    setText(c.execution_state!, k.execution_state);
    c.execution_state!.className = `badge ${STATES.includes(k.execution_state) ? k.execution_state : 'other'}`;
    setText(c.connections!, String(k.connections));
    setText(c.last_activity!, `${duration((serverNow - Date.parse(k.last_activity)) / 1000)} ago`);
    c.last_activity!.title = new Date(k.last_activity).toLocaleString();
    setText(c.uptime!, duration(k.uptime_seconds));
    setText(c.restarts!, String(k.restarts));
    setText(c.pid!, k.pid === null ? '–' : String(k.pid));
    setText(c.memory!, mb(k.memory_bytes));
    setText(c.cpu!, pct(k.cpu_percent));
    // Keep the rows in the server's order, moving only what is out of place.
    const want: Element | null = previous ? previous.nextElementSibling : tbody.firstElementChild;
    if (want !== row.tr) tbody.insertBefore(row.tr, want);
    previous = row.tr;
  }
  for (const [id, row] of rows) {
    if (!seen.has(id)) {
      row.tr.remove();
      rows.delete(id);
    }
  }
  $('no-kernels').hidden = s.kernels.length > 0;
}

async function act(id: string, action: Action, button: HTMLButtonElement): Promise<void> {
  const row = rows.get(id);
  if (!row || row.busy) return;
  const name = row.cells.name!.textContent ?? '';
  if (action === 'shutdown' && !confirm(`Shut down kernel ${name} (${id.slice(0, 8)})?`)) return;
  const path = action === 'shutdown' ? `/api/gateway/kernels/${encodeURIComponent(id)}` : `/api/gateway/kernels/${encodeURIComponent(id)}/${action}`;
  row.busy = true;
  row.tr.classList.add('working');
  row.tr.querySelectorAll('button').forEach((b) => (b.disabled = true));
  row.note.className = 'note';
  setText(row.note, { interrupt: 'Interrupting…', restart: 'Restarting…', shutdown: 'Shutting down…' }[action]);
  try {
    const res = await fetch(base + path, { method: action === 'shutdown' ? 'DELETE' : 'POST', headers: token ? { Authorization: `token ${token}` } : {} });
    if (!res.ok) throw new Error(await failure(res));
    setText(row.note, { interrupt: 'Interrupted', restart: 'Restarted', shutdown: 'Shut down' }[action]);
  } catch (err) {
    row.note.className = 'note error';
    setText(row.note, `${button.textContent} failed: ${(err as Error).message}`);
  } finally {
    row.busy = false;
    row.tr.classList.remove('working');
    row.tr.querySelectorAll('button').forEach((b) => (b.disabled = false));
  }
}

/** The gateway's error body ({reason, message}) as one line, or the HTTP status. */
async function failure(res: Response): Promise<string> {
  let text = `${res.status} ${res.statusText}`.trim();
  try {
    const body = (await res.json()) as { reason?: unknown; message?: unknown };
    const reason = typeof body.reason === 'string' && body.reason ? body.reason : '';
    const message = typeof body.message === 'string' && body.message ? body.message : '';
    if (reason || message) text = `${res.status} ${[reason, message].filter(Boolean).join(': ')}`;
  } catch {
    /* not JSON */
  }
  if (res.status === 401) text += ' (is the token right?)';
  return text;
}

// ---- Events ----

let events: GatewayEvent[] = [];
let shownEvents = '';

function showEvents(): void {
  const key = events.length ? `${events.length}|${events[events.length - 1]!.time}|${events[0]!.time}` : '';
  if (key === shownEvents) return;
  shownEvents = key;
  const list = $('events');
  const items: HTMLElement[] = [];
  for (let i = events.length - 1; i >= 0; i--) {
    const e = events[i]!;
    const li = el('li', { 'data-type': e.type });
    const t = new Date(e.time);
    li.append(el('time', { datetime: e.time, title: t.toLocaleString() }, t.toLocaleTimeString()), el('span', { class: `tag ${e.type}` }, e.type), el('span', { class: 'msg' }, e.message));
    if (e.kernel_id) li.append(el('code', { title: e.kernel_id }, e.kernel_id.slice(0, 8)));
    items.push(li);
  }
  list.replaceChildren(...items);
  $('no-events').hidden = events.length > 0;
}

// ---- The live stream ----

type Link = 'connecting' | 'live' | 'reconnecting' | 'disconnected';

function setLink(state: Link, detail = ''): void {
  const e = $('link');
  e.dataset.connection = state;
  setText(e, { connecting: 'Connecting…', live: 'Live', reconnecting: 'Reconnecting…', disconnected: 'Disconnected' }[state] + (detail ? ` – ${detail}` : ''));
}

function onStatus(s: GatewayStatus): void {
  // The gateway's clock, not the browser's, for "ago": the two may disagree.
  const serverNow = Date.parse(s.started) + s.uptime_seconds * 1000;
  showGateway(s);
  showKernels(s, serverNow);
  events = s.events.slice(-MAX_EVENTS);
  showEvents();
  setText($('updated'), `Updated ${new Date().toLocaleTimeString()}`);
  setLink('live');
}

let source: EventSource | undefined;
let retry: number | undefined;

function connect(): void {
  source?.close();
  clearTimeout(retry);
  setLink(source ? 'reconnecting' : 'connecting');
  const es = new EventSource(`${base}/api/gateway/events${token ? `?token=${encodeURIComponent(token)}` : ''}`);
  source = es;
  es.addEventListener('open', () => setLink('live'));
  es.addEventListener('status', (m) => onStatus(JSON.parse((m as MessageEvent<string>).data) as GatewayStatus));
  es.addEventListener('event', (m) => {
    events.push(JSON.parse((m as MessageEvent<string>).data) as GatewayEvent);
    if (events.length > MAX_EVENTS) events.shift();
    showEvents();
  });
  es.addEventListener('error', () => {
    if (es !== source) return;
    if (es.readyState === EventSource.CONNECTING) return setLink('reconnecting');
    // Closed for good (a refusal, not a dropped line): find out why, then try again later.
    setLink('disconnected');
    void diagnose();
  });
}

async function diagnose(): Promise<void> {
  let wait = 5000;
  try {
    const res = await fetch(`${base}/api/gateway/status`, { headers: token ? { Authorization: `token ${token}` } : {} });
    if (res.status === 401) {
      setLink('disconnected', token ? 'the token was refused' : 'a token is needed');
      $('auth').hidden = false;
      return;
    }
    if (!res.ok) setLink('disconnected', await failure(res));
  } catch {
    wait = 2000;
  }
  retry = window.setTimeout(connect, wait);
}

$('auth').addEventListener('submit', (e) => {
  e.preventDefault();
  const input = $<HTMLInputElement>('token');
  token = input.value.trim();
  input.value = '';
  try {
    sessionStorage.setItem(STORE_KEY, token);
  } catch {
    /* as above */
  }
  $('auth').hidden = true;
  connect();
});

connect();
