// notebook-http through the real gateway process and a real ipykernel: endpoints, REQUEST (and
// its injection-proofing), response bodies and metadata, rich outputs, uploads, swagger.json,
// download, static files, auth/CORS/base_url, and a kernel dying mid-request. One gateway
// (pool of one kernel) serves the whole file; the kernel-death test runs last.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startGateway, type GatewayProcess } from '../helpers/gateway-process.js';
import { PNG_BASE64, rawRequest, tempDir, writeNotebook } from './notebook-http-fixtures.js';

const TOKEN = 's3cret';
let gw: GatewayProcess;
let dir: string;

const api = (path: string, init: RequestInit = {}): Promise<Response> =>
  fetch(gw.url + path, { ...init, headers: { Authorization: `token ${TOKEN}`, ...(init.headers as Record<string, string>) } });
const text = async (path: string, init?: RequestInit): Promise<string> => (await api(path, init)).text();
/** The REQUEST value the /request endpoint echoes back. */
const echoed = async (path: string, init?: RequestInit): Promise<{ body: unknown; args: Record<string, string[]>; path: Record<string, string>; headers: Record<string, string | string[]> }> => {
  const res = await api(path, init);
  assert.equal(res.status, 200);
  return JSON.parse(await res.text());
};

const CELLS = [
  { markdown: '# An API\nAnnotated cells below.' },
  'import json, os, sys, time, base64',
  `hello_message = 'hello {}'\npeople = ['Corey', 'Nitin', 'Pete']\nPWNED = False\nPNG_B64 = '${PNG_BASE64}'`,
  "# GET /hello\nprint(hello_message.format('world'))",
  "# GET /hello/:person\nreq = json.loads(REQUEST)\nprint(hello_message.format(req['path']['person']))",
  "# GET /hello/world\nprint('the fixed path wins')",
  '# GET /message\nprint(hello_message)',
  "# PUT /message\nreq = json.loads(REQUEST)\nhello_message = req['body']\nprint(hello_message)",
  "# POST /people\nreq = json.loads(REQUEST)\npeople = req['body']\nprint(json.dumps(people))",
  "# DELETE /people/:index\nreq = json.loads(REQUEST)\npeople.remove(people[int(req['path']['index'])])\nprint(json.dumps(people))",
  "# POST /request\nprint(REQUEST, end='')",
  "# GET /request\nprint(REQUEST, end='')",
  "# GET /canary\nprint('PWNED' if PWNED else 'clean', end='')",
  "# GET /error\nraise ValueError('boom')",
  "# GET /stderr\nprint('I am text on stdout')\nprint('I am text on stderr', file=sys.stderr)",
  '# GET /execute_result\n1+1',
  '# GET /multi\nx = 1',
  "# GET /multi\nprint('x is {}'.format(x))",
  "# GET /env\nprint('KERNEL_GATEWAY is {}'.format(os.getenv('KERNEL_GATEWAY')))",
  "# GET /json\nprint(json.dumps({'hello': 'world'}))",
  "# ResponseInfo GET /json\nprint(json.dumps({'headers': {'Content-Type': 'application/json'}, 'status': 201}))",
  "# GET /nocontent\nprint('dropped')",
  "# ResponseInfo GET /nocontent\nprint(json.dumps({'status': 204}))",
  "# GET /etag\nprint(json.dumps({'hello': 'world'}))",
  "# ResponseInfo GET /etag\nprint(json.dumps({'headers': {'Content-Type': 'application/json', 'Etag': '1234567890'}}))",
  "# GET /badinfo\nprint('body')",
  "# ResponseInfo GET /badinfo\nprint('not json')",
  '# GET /png\nfrom IPython.display import display, Image\ndisplay(Image(data=base64.b64decode(PNG_B64), format="png"))',
  "# GET /html\nfrom IPython.display import HTML\nHTML('<b>hi</b>')",
  "# GET /rich\nclass Rich:\n    def _repr_html_(self): return '<i>rich</i>'\n    def _repr_json_(self): return {'rich': True}\nRich()",
  "# POST /upload\nreq = json.loads(REQUEST)\nprint(json.dumps(req['body']))",
  "# GET /sleep/:seconds\ntime.sleep(float(json.loads(REQUEST)['path']['seconds']))\nprint('slept')",
  '# GET /die\nos._exit(1)',
];

before(async () => {
  dir = tempDir('kg-nbhttp');
  const nb = writeNotebook(dir, 'api_main.ipynb', CELLS);
  const pub = join(dir, 'public');
  mkdirSync(join(pub, 'sub'), { recursive: true });
  writeFileSync(join(pub, 'index.html'), '<h1>static</h1>');
  writeFileSync(join(pub, 'sub', 'data.json'), '{"ok": true}');
  writeFileSync(join(dir, 'secret.txt'), 'outside the static folder');
  symlinkSync(join(dir, 'secret.txt'), join(pub, 'escape.txt'));
  gw = await startGateway([
    '--KernelGatewayApp.api=notebook-http',
    `--KernelGatewayApp.seed_uri=${nb}`,
    '--KernelGatewayApp.base_url=/nb',
    `--KernelGatewayApp.auth_token=${TOKEN}`,
    '--KernelGatewayApp.allow_origin=*',
    '--NotebookHTTPPersonality.allow_notebook_download=True',
    `--NotebookHTTPPersonality.static_path=${pub}`,
  ]);
});

after(async () => {
  await gw?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('endpoints', () => {
  test('GET returns what the cell printed, as text/plain', async () => {
    const res = await api('/hello');
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-type'), 'text/plain');
    assert.equal(await res.text(), 'hello world\n');
  });

  test('path parameters, decoded; a fixed path beats a parameter declared before it', async () => {
    assert.equal(await text('/hello/governor'), 'hello governor\n');
    assert.equal(await text('/hello/a%2Fb%20c'), 'hello a/b c\n');
    assert.equal(await text('/hello/world'), 'the fixed path wins\n');
  });

  test('PUT changes kernel state that a later GET sees (one kernel); POST and DELETE', async () => {
    assert.equal((await api('/message', { method: 'PUT', body: 'hola {}' })).status, 200);
    assert.equal(await text('/message'), 'hola {}\n');
    const list = '["Rick", "Maggie", "Glenn", "Carol", "Daryl"]';
    assert.equal(await text('/people', { method: 'POST', body: list, headers: { 'Content-Type': 'application/json' } }), `${list}\n`);
    const del = await api('/people/2', { method: 'DELETE' });
    assert.equal(del.status, 200);
    assert.equal(await del.text(), '["Rick", "Maggie", "Carol", "Daryl"]\n');
    assert.equal(await text('/message', { method: 'PUT', body: 'hello {}' }), 'hello {}\n');
  });

  test('cells with the same annotation run concatenated; seed cells ran; KERNEL_GATEWAY is set', async () => {
    assert.equal(await text('/multi'), 'x is 1\n');
    assert.equal(await text('/env'), 'KERNEL_GATEWAY is 1\n');
  });

  test('a failing cell is a 500 with the original\'s text, and the kernel serves the next request', async () => {
    const res = await api('/error');
    assert.equal(res.status, 500);
    assert.equal(await res.text(), 'Error ValueError: boom \n');
    assert.equal(await text('/hello'), 'hello world\n');
  });

  test('stderr never reaches the body', async () => {
    assert.equal(await text('/stderr'), 'I am text on stdout\n');
  });

  test('no stdout: the execute_result data as the original returns it', async () => {
    const res = await api('/execute_result');
    assert.equal(res.headers.get('content-type'), 'text/plain');
    assert.equal(await res.text(), '{"text/plain": "2"}');
  });

  test('unknown paths are 404 JSON; a known path with another verb is 405; HEAD runs no cell', async () => {
    const missing = await api('/not/an/endpoint');
    assert.equal(missing.status, 404);
    assert.equal((await missing.json()).reason, 'Not Found');
    const wrong = await api('/message', { method: 'DELETE' });
    assert.equal(wrong.status, 405);
    assert.equal(wrong.headers.get('allow'), 'GET, PUT');
    assert.equal((await api('/hello', { method: 'HEAD' })).status, 405);
    assert.equal((await api('/hello', { method: 'PATCH' })).status, 405);
  });
});

describe('REQUEST', () => {
  test('args are lists, headers Title-Case (repeats as lists), path parameters by name', async () => {
    const r = await rawRequest(gw.url, 'GET', '/nb/request?a=1&a=2&b=&c=x+y', { Authorization: `token ${TOKEN}`, 'x-MULTI': ['one', 'two'], 'If-None-Match': '""9a28a9262f9544""' });
    assert.equal(r.status, 200);
    const req = JSON.parse(r.body.toString());
    assert.deepEqual(Object.keys(req), ['body', 'args', 'path', 'headers']);
    assert.deepEqual(req.args, { a: ['1', '2'], b: [''], c: ['x y'] });
    assert.deepEqual(req.headers['X-Multi'], ['one', 'two']);
    assert.equal(req.headers['If-None-Match'], '""9a28a9262f9544""');
    assert.deepEqual(req.path, {});
    assert.equal(req.body, '');
  });

  test("REQUEST is the original's json.dumps text: ASCII only, spaced separators, under exactly text/plain", async () => {
    const res = await api('/request', { method: 'POST', body: JSON.stringify({ text: 'téxt ☃' }), headers: { 'Content-Type': 'application/json' } });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-type'), 'text/plain');
    const raw = Buffer.from(await res.arrayBuffer());
    assert.ok(raw.every((b) => b < 0x80), 'the answer is plain ASCII, readable whatever charset a client assumes');
    const body = raw.toString('latin1');
    assert.ok(body.startsWith('{"body": {"text": "t\\u00e9xt \\u2603"}, "args": {}, '), body);
    assert.deepEqual(JSON.parse(body).body, { text: 'téxt ☃' });
  });

  test('bodies by content type: JSON (charset accepted), forms, text, anything else', async () => {
    const post = (body: string, type: string) => echoed('/request', { method: 'POST', body, headers: { 'Content-Type': type } });
    assert.deepEqual((await post('{"a": [1, "x"]}', 'application/json; charset=utf-8')).body, { a: [1, 'x'] });
    assert.equal((await post('{oops', 'application/json')).body, '{oops');
    assert.deepEqual((await post('a=1&a=2&b=x+y', 'application/x-www-form-urlencoded')).body, { a: ['1', '2'], b: ['x y'] });
    assert.equal((await post('just text', 'text/plain')).body, 'just text');
    assert.equal((await post('<feed/>', 'application/atom+xml')).body, '<feed/>');
    for (const type of ['text/plain', 'application/json', 'application/atom+xml', 'foo']) {
      assert.equal((await echoed('/request', { headers: { 'Content-Type': type } })).headers['Content-Type'], type);
    }
  });

  test('multipart: fields as lists, uploaded files as {filename, content_type, data (base64)}', async () => {
    const bytes = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
    const form = new FormData();
    form.append('name', 'Ada');
    form.append('name', 'Grace');
    form.append('upload', new Blob([bytes], { type: 'application/octet-stream' }), 'all bytes.bin');
    form.append('notes', new Blob(['héllo'], { type: 'text/plain' }), 'notes.txt');
    const res = await api('/upload', { method: 'POST', body: form });
    assert.equal(res.status, 200);
    const body = await res.json();
    assert.deepEqual(body.name, ['Ada', 'Grace']);
    assert.deepEqual(body.upload, [{ filename: 'all bytes.bin', content_type: 'application/octet-stream', data: bytes.toString('base64') }]);
    assert.equal(Buffer.from(body.notes[0].data, 'base64').toString(), 'héllo');
    assert.equal(body.notes[0].content_type, 'text/plain');
  });

  test('multipart that is truncated or over the field limit is answered before any kernel runs, in the JSON error shape', async () => {
    const type = { 'Content-Type': 'multipart/form-data; boundary=B' };
    const truncated = await api('/upload', { method: 'POST', body: '--B\r\nContent-Disposition: form-data; name="a"\r\n\r\nvalue', headers: type });
    assert.equal(truncated.status, 400);
    const body = (await truncated.json()) as { reason: string; message: string };
    assert.equal(body.reason, 'Bad Request');
    assert.match(body.message, /truncated/);
    const parts = Array.from({ length: 1001 }, (_, i) => `--B\r\nContent-Disposition: form-data; name="f${i}"\r\n\r\nv\r\n`).join('');
    const tooMany = await api('/upload', { method: 'POST', body: `${parts}--B--\r\n`, headers: type });
    assert.equal(tooMany.status, 413);
    assert.match(((await tooMany.json()) as { message: string }).message, /more than 1000 fields/);
  });

  test('injection-proof: quotes, backslashes, newlines, triple quotes and unicode in every part stay data', async () => {
    const hostile = [
      '"; PWNED = True; "',
      "'''; PWNED = True; '''",
      '"""; PWNED = True; """',
      '\\"; PWNED = True; #',
      'ends with backslash \\',
      '\n"\nPWNED = True\n"',
      '\\u0022; PWNED = True; \\u0022',
      'unicode é 😀 עברית \u2028 \u0000 end',
      '{__import__("os")._exit(1)}',
    ];
    for (const h of hostile) {
      const viaBody = await echoed('/request', { method: 'POST', body: h, headers: { 'Content-Type': 'text/plain' } });
      assert.equal(viaBody.body, h, `body ${JSON.stringify(h)}`);
      const viaJson = await echoed('/request', { method: 'POST', body: JSON.stringify({ [h]: h }), headers: { 'Content-Type': 'application/json' } });
      assert.deepEqual(viaJson.body, { [h]: h });
      const viaArgs = await echoed(`/request?${new URLSearchParams({ [h]: h })}`);
      assert.deepEqual(viaArgs.args, { [h]: [h] });
      assert.equal(await text(`/hello/${encodeURIComponent(h)}`), `hello ${h}\n`);
      const ascii = h.replace(/[^\x20-\x7e]/g, '?');
      const viaHeader = await echoed('/request', { headers: { 'X-Hostile': ascii } });
      assert.equal(viaHeader.headers['X-Hostile'], ascii);
    }
    assert.equal(await text('/canary'), 'clean', 'no payload ran as code');
  });
});

describe('responses', () => {
  test('ResponseInfo sets status and Content-Type', async () => {
    const res = await api('/json');
    assert.equal(res.status, 201);
    assert.equal(res.headers.get('content-type'), 'application/json');
    assert.deepEqual(await res.json(), { hello: 'world' });
  });

  test('ResponseInfo 204 sends no body; custom headers such as Etag apply', async () => {
    const none = await api('/nocontent');
    assert.equal(none.status, 204);
    assert.equal(await none.text(), '');
    const etag = await api('/etag');
    assert.equal(etag.status, 200);
    assert.equal(etag.headers.get('etag'), '1234567890');
    assert.equal(etag.headers.get('content-type'), 'application/json');
  });

  test('a ResponseInfo cell that prints no JSON is a 500 that says so', async () => {
    const res = await api('/badinfo');
    assert.equal(res.status, 500);
    assert.match((await res.json()).message, /ResponseInfo cell did not print JSON/);
  });

  test('rich outputs: image/png bytes, text/html; Accept picks between html and json', async () => {
    const png = await api('/png');
    assert.equal(png.headers.get('content-type'), 'image/png');
    assert.deepEqual(Buffer.from(await png.arrayBuffer()), Buffer.from(PNG_BASE64, 'base64'));
    const html = await api('/html');
    assert.equal(html.headers.get('content-type'), 'text/html; charset=utf-8');
    assert.equal(await html.text(), '<b>hi</b>');
    assert.equal(await text('/rich'), '<i>rich</i>');
    const json = await api('/rich', { headers: { Accept: 'application/json' } });
    assert.equal(json.headers.get('content-type'), 'application/json');
    assert.deepEqual(await json.json(), { rich: true });
    const plain = await api('/rich', { headers: { Accept: 'text/plain' } });
    assert.equal(plain.headers.get('content-type'), 'text/plain');
    assert.equal(JSON.parse(await plain.text())['text/html'], '<i>rich</i>');
  });
});

describe('swagger, download, static files', () => {
  test('/_api/spec/swagger.json documents the endpoints, titled after the notebook', async () => {
    const res = await api('/_api/spec/swagger.json');
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-type'), 'application/json');
    const spec = await res.json();
    assert.equal(spec.swagger, '2.0');
    assert.deepEqual(spec.info, { version: '0.0.0', title: 'api_main' });
    assert.deepEqual(Object.keys(spec.paths['/message']).sort(), ['get', 'put']);
    assert.deepEqual(spec.paths['/hello/{person}'].get.parameters, [{ name: 'person', in: 'path', required: true, type: 'string' }]);
    assert.equal(spec.paths['/json'].get.responses['200'].description, 'Success');
    assert.equal((await api('/_api/spec/swagger.json', { method: 'POST' })).status, 405);
  });

  test('/_api/source returns the notebook', async () => {
    const res = await api('/_api/source');
    assert.equal(res.status, 200);
    const nb = await res.json();
    for (const key of ['cells', 'metadata', 'nbformat', 'nbformat_minor']) assert.ok(key in nb, key);
  });

  test('/public serves static_path with content types and revalidation', async () => {
    const index = await api('/public/index.html');
    assert.equal(index.status, 200);
    assert.equal(index.headers.get('content-type'), 'text/html');
    assert.equal(await index.text(), '<h1>static</h1>');
    const data = await api('/public/sub/data.json');
    assert.equal(data.headers.get('content-type'), 'application/json');
    const again = await api('/public/index.html', { headers: { 'If-None-Match': index.headers.get('etag')! } });
    assert.equal(again.status, 304);
    assert.equal((await api('/public/missing.txt')).status, 404);
    assert.equal((await api('/public/sub')).status, 403);
  });

  test('/public answers byte ranges (so videos can seek), 416 past the end, HEAD without a body', async () => {
    // index.html is '<h1>static</h1>' (15 bytes).
    const part = await api('/public/index.html', { headers: { Range: 'bytes=4-9' } });
    assert.equal(part.status, 206);
    assert.equal(part.headers.get('content-range'), 'bytes 4-9/15');
    assert.equal(part.headers.get('content-type'), 'text/html');
    assert.equal(await part.text(), 'static');
    const tail = await api('/public/index.html', { headers: { Range: 'bytes=-5' } });
    assert.equal(await tail.text(), '</h1>');
    const past = await api('/public/index.html', { headers: { Range: 'bytes=100-200' } });
    assert.equal(past.status, 416);
    assert.equal(past.headers.get('content-range'), 'bytes */15');
    const body = (await past.json()) as { reason: string; message: string };
    assert.equal(body.reason, 'Range Not Satisfiable');
    // If-Range: the range only while the validator still matches, else the whole file.
    const etag = part.headers.get('etag')!;
    assert.equal((await api('/public/index.html', { headers: { Range: 'bytes=4-9', 'If-Range': etag } })).status, 206);
    const stale = await api('/public/index.html', { headers: { Range: 'bytes=4-9', 'If-Range': '"stale"' } });
    assert.equal(stale.status, 200);
    assert.equal(await stale.text(), '<h1>static</h1>');
    // Several ranges (multipart/byteranges) are not served: the whole file, as send does.
    const several = await api('/public/index.html', { headers: { Range: 'bytes=0-1,4-5' } });
    assert.equal(several.status, 200);
    assert.equal(await several.text(), '<h1>static</h1>');
    const head = await api('/public/index.html', { method: 'HEAD' });
    assert.equal(head.status, 200);
    assert.equal(head.headers.get('content-length'), '15');
    assert.equal(head.headers.get('accept-ranges'), 'bytes');
    assert.equal(await head.text(), '');
  });

  test('/public never serves a file outside static_path', async () => {
    const auth = { Authorization: `token ${TOKEN}` };
    for (const path of ['/nb/public/../secret.txt', '/nb/public/..%2Fsecret.txt', '/nb/public/sub/../../secret.txt', '/nb/public/%2e%2e/secret.txt', '/nb/public/escape.txt']) {
      const r = await rawRequest(gw.url, 'GET', path, auth);
      assert.ok([403, 404].includes(r.status), `${path} -> ${r.status}`);
      assert.ok(!r.body.toString().includes('outside the static folder'), path);
    }
  });
});

describe('server policies', () => {
  test('the auth token is required (header or ?token=)', async () => {
    assert.equal((await fetch(gw.url + '/hello')).status, 401);
    assert.equal((await fetch(gw.url + '/_api/spec/swagger.json')).status, 401);
    const viaQuery = await fetch(`${gw.url}/hello?token=${TOKEN}`);
    assert.equal(viaQuery.status, 200);
    assert.equal(await viaQuery.text(), 'hello world\n');
  });

  test('CORS headers apply to endpoint responses; routes live under base_url only', async () => {
    const res = await api('/hello', { headers: { Origin: 'http://elsewhere.example' } });
    assert.equal(res.headers.get('access-control-allow-origin'), '*');
    const outside = await fetch(new URL('/hello', gw.url), { headers: { Authorization: `token ${TOKEN}` } });
    assert.equal(outside.status, 404);
  });
});

describe('queueing on a pool of one', () => {
  test('requests wait their turn; one whose client left while queued never runs', async () => {
    const t0 = performance.now();
    const first = api('/sleep/0.8');
    await new Promise((r) => setTimeout(r, 100));
    const leaving = new AbortController();
    // Long enough that running it could not be mistaken for a slow machine.
    const abandoned = api('/sleep/5', { signal: leaving.signal });
    await new Promise((r) => setTimeout(r, 100));
    const third = api('/hello');
    leaving.abort();
    await assert.rejects(abandoned);
    assert.equal(await (await first).text(), 'slept\n');
    assert.equal(await (await third).text(), 'hello world\n');
    const ms = performance.now() - t0;
    assert.ok(ms < 4500, `the third request waited for the first only (${ms.toFixed(0)} ms), not for the abandoned 5 s one`);
  });
});

describe('a kernel dying mid-request', () => {
  test('that request gets a 500 saying so; a queued request is served by a fresh, seeded kernel', async () => {
    const dying = api('/die');
    await new Promise((r) => setTimeout(r, 100));
    const queued = api('/message');
    const res = await dying;
    assert.equal(res.status, 500);
    assert.match((await res.json()).message, /kernel died while running GET \/die/);
    const next = await queued;
    assert.equal(next.status, 200);
    assert.equal(await next.text(), 'hello {}\n', 'the replacement ran the seed cells (and not the PUT made earlier)');
    assert.equal(await text('/hello'), 'hello world\n');
  });
});
