// The operator dashboard in a real browser (Debian's chromium driven by playwright-core), on a
// gateway with a token and a base_url: the page takes the token from the URL and hides it,
// lists the kernel live (busy while a cell sleeps, idle after), restarts, interrupts and shuts
// it down from its buttons, shows a refused action inline, fits a phone's width, and says
// "reconnecting" when the gateway goes away. The page itself holds no data and is served
// without the token (so a reload works once the token left the URL); everything it reads needs it.
//
// The screenshot goes to a temp dir; UPDATE_DASHBOARD_SCREENSHOT=1 writes docs/dashboard.png
// instead (a test run should not rewrite a tracked file the package ships).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';
import { dashboardHtml } from '../../src/server/operator/dashboard/page.js';
import { startGateway, type GatewayProcess } from '../helpers/gateway-process.js';
import { RawKernelClient } from '../helpers/raw-kernel-client.js';
import { jupyterDirs } from '../server/gateway-fixtures.js';

const CHROMIUM = '/usr/bin/chromium';
const TOKEN = 'dash+tok/en&x=1'; // characters a query string must encode
const BASE = '/gw';
const WAIT = 30_000;
const dirs = jupyterDirs();
const SCREENSHOT = process.env.UPDATE_DASHBOARD_SCREENSHOT === '1' ? fileURLToPath(new URL('../../../docs/dashboard.png', import.meta.url)) : join(dirs.root, 'dashboard.png');

let gw: GatewayProcess;
let browser: Browser | undefined;
let page: Page;
let kernelId: string;
const auth = { Authorization: `token ${TOKEN}` };
const q = `?token=${encodeURIComponent(TOKEN)}`;

before(async () => {
  assert.ok(existsSync(CHROMIUM), `the dashboard test needs ${CHROMIUM}: apt-get install chromium`);
  gw = await startGateway([`--KernelGatewayApp.auth_token=${TOKEN}`, `--KernelGatewayApp.base_url=${BASE}/`], dirs.env);
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
});

after(async () => {
  await browser?.close().catch(() => undefined);
  await gw?.stop();
  dirs.cleanup();
});

/** The text of a kernel row's field, polled in the page until it is `want`. */
async function fieldIs(id: string, field: string, want: string, timeout = WAIT): Promise<void> {
  await page
    .waitForFunction(([id, field, want]) => document.querySelector(`[data-kernel-id="${id}"] [data-field="${field}"]`)?.textContent === want, [id, field, want] as const, { timeout, polling: 100 })
    .catch(async (err: Error) => {
      const now = await page.evaluate(([id, field]) => document.querySelector(`[data-kernel-id="${id}"] [data-field="${field}"]`)?.textContent, [id, field] as const);
      throw new Error(`${field} of ${id} never became ${JSON.stringify(want)} (it is ${JSON.stringify(now)}): ${err.message}`);
    });
}

test('the page escapes what it interpolates', () => {
  const html = dashboardHtml({ base: '/a"b<c>&', version: '1.0<script>' });
  assert.ok(html.includes('data-base="/a&quot;b&lt;c&gt;&amp;"'));
  assert.ok(html.includes('1.0&lt;script&gt;'));
  assert.equal(html.match(/<script/g)?.length, 1, 'one script element: the inlined client');
  assert.ok(!/<\/script/i.test(html.slice(html.indexOf('<script'), html.lastIndexOf('</script>'))), 'the script never closes itself early');
  assert.ok(!html.includes('sourceMappingURL'), 'no source map link (it would need the token)');
});

test('the dashboard: live kernel state, restart, interrupt, errors, shut down, phone width', async () => {
  const res = await fetch(`${gw.url}/api/kernels`, { method: 'POST', headers: { ...auth, 'Content-Type': 'application/json' }, body: JSON.stringify({ name: 'python3' }) });
  assert.equal(res.status, 201, await res.clone().text());
  kernelId = ((await res.json()) as { id: string }).id;

  page = await browser!.newPage({ viewport: { width: 1200, height: 800 } });
  const problems: string[] = [];
  page.on('pageerror', (err) => problems.push(`page error: ${err.message}`));
  page.on('console', (m) => {
    if (m.type() === 'error') problems.push(`console: ${m.text()}`);
  });
  await page.goto(`${gw.url}/dashboard${q}`);

  const row = page.locator(`tr[data-kernel-id="${kernelId}"]`);
  await row.waitFor({ timeout: WAIT });
  const url = new URL(page.url());
  assert.equal(url.pathname, `${BASE}/dashboard`);
  assert.ok(!page.url().includes('token'), `the token is gone from the address bar: ${page.url()}`);
  assert.equal(await page.evaluate(() => sessionStorage.getItem('kernel-gateway-token:/gw')), TOKEN);
  assert.equal(await page.locator('#link').getAttribute('data-connection'), 'live');
  // A reload, with the token gone from the URL, still shows the kernels.
  await page.reload();
  await row.waitFor({ timeout: WAIT });
  assert.ok(!page.url().includes('token'));

  // A cell that sleeps: busy while it runs, idle after, as the stream reports it.
  await fieldIs(kernelId, 'execution_state', 'idle', 60_000);
  const client = await RawKernelClient.connect(gw.url, kernelId, q);
  try {
    await fieldIs(kernelId, 'connections', '1');
    const msgId = client.request('execute_request', { code: 'import time; time.sleep(5)', silent: false, store_history: false, user_expressions: {}, allow_stdin: false });
    await fieldIs(kernelId, 'execution_state', 'busy');
    assert.equal(await row.locator('[data-field="execution_state"]').getAttribute('class'), 'badge busy');
    await client.waitFor((m) => m.parent_header.msg_id === msgId && m.header.msg_type === 'execute_reply', 60_000);
    await fieldIs(kernelId, 'execution_state', 'idle');
  } finally {
    client.close();
  }
  await fieldIs(kernelId, 'connections', '0');

  // Restart from its button: the count goes to 1 and a restart event is listed.
  await row.locator('[data-action="restart"]').click();
  await fieldIs(kernelId, 'restarts', '1');
  await page.locator('#events li[data-type="restart"]').first().waitFor({ timeout: WAIT });
  await page.locator(`tr[data-kernel-id="${kernelId}"] .note`, { hasText: 'Restarted' }).waitFor({ timeout: WAIT });
  await fieldIs(kernelId, 'execution_state', 'idle', 60_000);
  assert.ok(await page.locator('#events li[data-type="start"]').count() >= 1, 'the start is listed too');
  const order = await page.locator('#events li').evaluateAll((lis) => lis.map((li) => li.getAttribute('data-type')));
  assert.ok(order.indexOf('restart') < order.lastIndexOf('start'), `newest first: ${order.join(', ')}`);
  await page.screenshot({ path: SCREENSHOT });

  // Interrupt: 204, said inline. A refusal is shown inline too, with the gateway's message.
  await row.locator('[data-action="interrupt"]').click();
  await row.locator('.note', { hasText: 'Interrupted' }).waitFor({ timeout: WAIT });
  assert.deepEqual(problems, [], 'no errors in the page so far');
  await page.route('**/interrupt', (route) => route.fulfill({ status: 404, contentType: 'application/json', body: JSON.stringify({ reason: 'Not Found', message: 'Kernel does not exist: nope' }) }));
  await row.locator('[data-action="interrupt"]').click();
  await row.locator('.note.error', { hasText: 'Kernel does not exist: nope' }).waitFor({ timeout: WAIT });
  await page.unroute('**/interrupt');
  problems.length = 0; // the browser logs the 404 it was just given

  // A phone: cards, no horizontal scrolling.
  await page.setViewportSize({ width: 390, height: 844 });
  await page.waitForFunction(() => getComputedStyle(document.querySelector('thead')!).display === 'none', undefined, { timeout: WAIT });
  const width = await page.evaluate(() => document.documentElement.scrollWidth);
  assert.ok(width <= 391, `no horizontal scrolling at 390 px (scrollWidth ${width})`);
  await page.setViewportSize({ width: 1200, height: 800 });

  // Shut down, confirmed: the row goes, a shutdown event comes.
  let asked = '';
  page.once('dialog', (d) => {
    asked = d.message();
    void d.accept();
  });
  await row.locator('[data-action="shutdown"]').click();
  await row.waitFor({ state: 'detached', timeout: WAIT });
  assert.match(asked, /Shut down kernel python3/);
  await page.locator('#events li[data-type="shutdown"]').first().waitFor({ timeout: WAIT });
  assert.equal(await page.locator('#no-kernels').isVisible(), true);
  const gone = await fetch(`${gw.url}/api/kernels/${kernelId}`, { headers: auth });
  assert.equal(gone.status, 404);
  assert.deepEqual(problems, []);
});

test('the page holds no data and comes without the token; its data needs it; the page as served', async () => {
  const open = await fetch(`${gw.url}/dashboard`);
  assert.equal(open.status, 200);
  assert.ok(!(await open.text()).includes(kernelId), 'no kernel id in the page itself');
  assert.equal((await fetch(`${gw.url}/api/gateway/status?token=wrong`)).status, 401);
  assert.equal((await fetch(`${gw.url}/api/gateway/events`)).status, 401);
  assert.equal((await fetch(`${gw.url}/api/gateway/kernels/${kernelId}/restart`, { method: 'POST' })).status, 401);
  const res = await fetch(`${gw.url}/dashboard`, { headers: auth });
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type') ?? '', /^text\/html/);
  const html = await res.text();
  assert.ok(html.includes(`data-base="${BASE}"`));
  console.log(`[dashboard] page weight: ${Buffer.byteLength(html)} bytes`);
});

test('the page says "reconnecting" when the gateway goes away', async () => {
  await page.locator('#link[data-connection="live"]').waitFor({ timeout: WAIT });
  await gw.stop();
  await page.locator('#link[data-connection="reconnecting"]').waitFor({ timeout: WAIT });
});
