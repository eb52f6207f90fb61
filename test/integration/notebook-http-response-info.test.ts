// ResponseInfo headers and statuses Node cannot send, through the real gateway and a real
// ipykernel: a 500 in the gateway's JSON error shape naming the header, with the CORS headers,
// and the kernel goes on serving.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { startGateway, type GatewayProcess } from '../helpers/gateway-process.js';
import { rawRequest, tempDir, writeNotebook } from './notebook-http-fixtures.js';

let gw: GatewayProcess;
let dir: string;

const CELLS = [
  'import json',
  "# GET /badname\nprint('body')",
  "# ResponseInfo GET /badname\nprint(json.dumps({'headers': {'Bad Name': 'x'}}))",
  "# GET /snowman\nprint('body')",
  "# ResponseInfo GET /snowman\nprint(json.dumps({'headers': {'X-Weather': '\\u2603'}}))",
  "# GET /crlf\nprint('body')",
  "# ResponseInfo GET /crlf\nprint(json.dumps({'headers': {'X-Split': 'a\\r\\nInjected: 1'}}))",
  "# GET /listed\nprint('body')",
  "# ResponseInfo GET /listed\nprint(json.dumps({'headers': {'X-Many': ['fine', 'caf\\u00e9', '\\u2603']}}))",
  "# GET /badstatus\nprint('body')",
  "# ResponseInfo GET /badstatus\nprint(json.dumps({'status': 42}))",
  "# GET /fine\nprint('body')",
  "# ResponseInfo GET /fine\nprint(json.dumps({'status': 202, 'headers': {'X-Fine': 'caf\\u00e9'}}))",
];

before(async () => {
  dir = tempDir('kg-nbhttp-info');
  const nb = writeNotebook(dir, 'info.ipynb', CELLS);
  gw = await startGateway(['--KernelGatewayApp.api=notebook-http', `--KernelGatewayApp.seed_uri=${nb}`, '--KernelGatewayApp.allow_origin=*']);
});

after(async () => {
  await gw?.stop();
  rmSync(dir, { recursive: true, force: true });
});

async function refused(path: string, pattern: RegExp): Promise<void> {
  const res = await fetch(gw.url + path);
  const body = await res.text();
  assert.equal(res.status, 500, body);
  assert.match(res.headers.get('content-type') ?? '', /^application\/json/);
  assert.equal(res.headers.get('access-control-allow-origin'), '*');
  const error = JSON.parse(body) as { reason: string; message: string };
  assert.equal(error.reason, 'Internal Server Error');
  assert.match(error.message, pattern);
}

test('a ResponseInfo header name Node refuses is a JSON 500 naming the header, with CORS headers', async () => {
  await refused('/badname', /GET \/badname: .*header name "Bad Name"/);
});

test('header values that are not Latin-1 or hold a line break are JSON 500s naming the header', async () => {
  await refused('/snowman', /header "X-Weather"/);
  await refused('/crlf', /header "X-Split".*line break/);
  await refused('/listed', /header "X-Many"/);
});

test('a status outside 100-599 is a JSON 500', async () => {
  await refused('/badstatus', /status must be an HTTP status code \(100-599\), not 42/);
});

test('the kernel goes on serving; a Latin-1 value is sent as it is', async () => {
  const res = await rawRequest(gw.url, 'GET', '/fine');
  assert.equal(res.status, 202);
  assert.equal(res.headers['x-fine'], 'café', 'sent as Latin-1 bytes, read back as Latin-1');
  assert.equal(res.body.toString(), 'body\n');
});
