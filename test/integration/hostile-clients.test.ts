// Hostile and broken networks, driven with raw sockets: resets at every moment of a refused or
// accepted upgrade, half-open and mute peers, slowloris headers and bodies, garbage, huge
// headers, malformed websocket frames, bad Jupyter messages and connection storms. After every
// case the gateway must still answer, an existing kernel must still run 1+1 over a fresh
// websocket, and no kernel process may have leaked.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import WebSocket from 'ws';
import { processesMentioning, startGateway, waitFor, type GatewayProcess } from '../helpers/gateway-process.js';
import { RawKernelClient } from '../helpers/raw-kernel-client.js';
import { frame, rawConnect, serverCloseCode, upgradeRequest, type RawClient } from '../helpers/raw-socket.js';

const TOKEN = 'secret';
const AUTH = { Authorization: `token ${TOKEN}` };
const PING_SECS = 2;
// Long enough that a polite client on a loaded machine is never cut off by a stalled event loop.
const HEADERS_SECS = 5;
const REQUEST_SECS = 6;
const MAX_MESSAGE = 1024 * 1024;

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

const openFds = (pid: number): number => readdirSync(`/proc/${pid}/fd`).length;

describe('hostile clients', () => {
  let gw: GatewayProcess;
  let kernelId: string;
  let runtimeDir: string;
  let channels: string;
  let survived = 0;

  before(async () => {
    runtimeDir = mkdtempSync(join(tmpdir(), 'kg-hostile-'));
    gw = await startGateway(
      [
        `--KernelGatewayApp.auth_token=${TOKEN}`,
        '--KernelGatewayApp.allow_origin=http://good.example',
        `--KernelGatewayApp.ws_ping_interval=${PING_SECS}`,
        `--KernelGatewayApp.http_headers_timeout=${HEADERS_SECS}`,
        `--KernelGatewayApp.http_request_timeout=${REQUEST_SECS}`,
        '--KernelGatewayApp.http_keep_alive_timeout=2',
        `--KernelGatewayApp.ws_max_message_size=${MAX_MESSAGE}`,
        '--JupyterWebsocketPersonality.list_kernels=True',
      ],
      { JUPYTER_RUNTIME_DIR: runtimeDir },
    );
    const res = await fetch(`${gw.url}/api/kernels`, { method: 'POST', headers: AUTH, body: '{"name":"python3"}' });
    assert.equal(res.status, 201);
    kernelId = ((await res.json()) as { id: string }).id;
    channels = `/api/kernels/${kernelId}/channels?token=${TOKEN}`;
  });

  after(async () => {
    console.log(`# hostile cases survived: ${survived}`);
    await gw?.stop();
  });

  /** The gateway answers, the kernel runs 1+1 over a fresh websocket, no kernel leaked. */
  async function healthy(): Promise<void> {
    assert.equal(gw.proc.exitCode, null, `the gateway is running:\n${gw.logs().slice(-2000)}`);
    const res = await fetch(`${gw.url}/api`, { headers: AUTH });
    assert.equal(res.status, 200);
    await res.arrayBuffer();
    const client = await RawKernelClient.connect(gw.url, kernelId, `?token=${TOKEN}`);
    try {
      const out = await client.execute('1+1');
      const result = out.find((m) => m.header.msg_type === 'execute_result');
      assert.equal((result?.content.data as Record<string, string> | undefined)?.['text/plain'], '2');
    } finally {
      client.close();
    }
    assert.equal(processesMentioning(runtimeDir).length, 1, 'exactly the one kernel process runs');
  }

  async function upgraded(path = channels, headers: Record<string, string> = {}): Promise<RawClient> {
    const c = await rawConnect(gw.port);
    c.write(upgradeRequest(path, headers));
    await c.until((t) => t.includes('\r\n\r\n'));
    assert.match(c.text(), /^HTTP\/1\.1 101 /);
    return c;
  }

  /** Sends `bytes` on an accepted websocket and expects the server to close with `code`. */
  async function closesWith(bytes: Buffer[], code: number): Promise<void> {
    const c = await upgraded();
    for (const b of bytes) c.write(b);
    await c.until(() => serverCloseCode(c.received()) !== undefined || c.isClosed(), 10_000).catch(() => undefined);
    assert.equal(serverCloseCode(c.received()), code);
    c.reset();
  }

  async function refusedWith(status: number, request: string, moment: 'after-send' | 'after-answer' | 'mid-request'): Promise<void> {
    const c = await rawConnect(gw.port);
    if (moment === 'mid-request') {
      c.write(request.slice(0, Math.floor(request.length / 2)));
      await sleep(20);
      c.reset();
      return;
    }
    c.write(request);
    if (moment === 'after-send') {
      c.reset();
      return;
    }
    const text = await c.until((t) => t.includes('\r\n\r\n'));
    assert.match(text, new RegExp(`^HTTP/1\\.1 ${status} `));
    c.reset();
  }

  async function httpAnswer(request: string | Buffer, timeoutMs = 10_000): Promise<string> {
    const c = await rawConnect(gw.port);
    c.write(request);
    await Promise.race([c.closed, sleep(timeoutMs)]);
    const text = c.text();
    c.reset();
    return text;
  }

  const wsUrl = (): string => `${gw.url.replace(/^http/, 'ws')}${channels}`;

  /** A polite websocket client (the ws library), for well-formed frames with bad contents. */
  async function politeSocket(protocol?: string): Promise<WebSocket> {
    const ws = new WebSocket(wsUrl(), protocol ? [protocol] : []);
    ws.on('error', () => undefined);
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('unexpected-response', () => reject(new Error('refused')));
      ws.once('error', reject);
    });
    return ws;
  }

  const cases: { name: string; run: () => Promise<void> }[] = [];
  const hostile = (name: string, run: () => Promise<void>): void => void cases.push({ name, run });

  // Refused upgrades, reset at several moments.
  const noToken = (): string => upgradeRequest(`/api/kernels/${kernelId}/channels`);
  const crossOrigin = (): string => upgradeRequest(channels, { Origin: 'http://evil.example' });
  const unknownKernel = (): string => upgradeRequest(`/api/kernels/00000000-0000-0000-0000-000000000000/channels?token=${TOKEN}`);
  for (const [status, make] of [
    [401, noToken],
    [403, crossOrigin],
    [404, unknownKernel],
  ] as const) {
    for (const moment of ['after-send', 'after-answer', 'mid-request'] as const) {
      hostile(`RST ${moment} of an upgrade refused with ${status}`, () => refusedWith(status, make(), moment));
    }
  }
  hostile('RST after an upgrade refused for an unknown websocket path', () => refusedWith(404, upgradeRequest(`/api/nothing/here?token=${TOKEN}`), 'after-answer'));
  hostile('upgrade without Sec-WebSocket-Key, then RST', () => refusedWith(400, upgradeRequest(channels, { 'Sec-WebSocket-Key': '' }), 'after-answer'));
  hostile('upgrade with an unsupported websocket version', () => refusedWith(400, upgradeRequest(channels, { 'Sec-WebSocket-Version': '99' }), 'after-answer'));

  hostile('50 refused clients that stay half-open hold no descriptor after 10 s', async () => {
    const pid = gw.proc.pid!;
    const before = openFds(pid);
    const clients = await Promise.all(Array.from({ length: 50 }, () => rawConnect(gw.port)));
    for (const c of clients) {
      c.socket.pause(); // reads nothing, closes nothing
      c.write(noToken());
    }
    await sleep(500);
    const during = openFds(pid);
    const settled = await waitFor(() => openFds(pid) <= before + 5, 10_000, 200);
    const heldAfter = openFds(pid) - before;
    console.log(`# 50 half-open refused clients: ${during - before} extra fds at 0.5 s, ${heldAfter} after settling`);
    assert.ok(settled, `the gateway released their descriptors (still ${heldAfter} extra)`);
    for (const c of clients) c.reset();
  });

  // Accepted websockets that go away badly.
  hostile('RST right after the 101', async () => (await upgraded()).reset());
  hostile('RST in the middle of a frame', async () => {
    const c = await upgraded();
    const f = frame({ opcode: 1, payload: JSON.stringify({ header: { msg_id: 'x', msg_type: 'kernel_info_request' } }) });
    c.write(f.subarray(0, 5));
    await sleep(20);
    c.reset();
  });
  hostile('RST while the kernel streams output to the client', async () => {
    const c = await upgraded();
    const request = { channel: 'shell', header: { msg_id: `stream-${Date.now()}`, msg_type: 'execute_request', session: 's', username: 'u', version: '5.3' }, parent_header: {}, metadata: {}, content: { code: 'for i in range(20000): print("x" * 100)', silent: false } };
    c.write(frame({ opcode: 0x1, payload: JSON.stringify(request) }));
    const head = c.received().length;
    await c.until(() => c.received().length > head + 10_000);
    c.reset();
    // Let the execution finish so the next check's execution is not queued behind it.
    await sleep(1500);
  });
  hostile('RST during the upgrade of an authorised client', async () => {
    const c = await rawConnect(gw.port);
    c.write(upgradeRequest(channels));
    c.reset();
  });
  hostile('a client that vanishes without a FIN is dropped by the keepalive and uncounted', async () => {
    const c = await upgraded();
    c.socket.pause(); // never reads, never answers a ping
    const connections = async (): Promise<number> => ((await (await fetch(`${gw.url}/api/kernels/${kernelId}`, { headers: AUTH })).json()) as { connections: number }).connections;
    assert.ok((await connections()) >= 1);
    const t0 = Date.now();
    assert.ok(await waitFor(async () => (await connections()) === 0, PING_SECS * 1000 * 5 + 5000, 200), `the dead peer stops counting (now ${await connections()}):\n${gw.logs().slice(-4000)}`);
    console.log(`# a mute websocket was dropped after ${Date.now() - t0} ms (ws_ping_interval ${PING_SECS} s)`);
    c.reset();
  });

  // HTTP that is not HTTP, or is too slow, too big or malformed.
  hostile('garbage instead of HTTP gets a 400 and a close', async () => {
    assert.match(await httpAnswer('\x00\x01\x02 hello there\r\n\r\n'), /^HTTP\/1\.1 400 /);
  });
  hostile('64 KiB of random bytes', async () => {
    const { randomBytes } = await import('node:crypto');
    await httpAnswer(randomBytes(65536));
  });
  hostile('a TLS ClientHello on the plain HTTP port', async () => {
    const hello = Buffer.from('16030100a5010000a10303' + '00'.repeat(32) + '000020c02bc02fc02cc030cca9cca8c009c013c00ac014009c009d002f0035000a0100', 'hex');
    assert.match(await httpAnswer(hello), /^HTTP\/1\.1 400 |^$/);
  });
  hostile('slowloris headers are cut off by http_headers_timeout', async () => {
    const c = await rawConnect(gw.port);
    c.write('GET /api HTTP/1.1\r\nHost: x\r\n');
    const t0 = Date.now();
    const drip = setInterval(() => c.write('X'), 300);
    await Promise.race([c.closed, sleep(HEADERS_SECS * 1000 + 10_000)]);
    clearInterval(drip);
    assert.ok(c.isClosed(), 'the connection was closed');
    assert.match(c.text(), /^HTTP\/1\.1 408 /);
    console.log(`# slowloris headers cut after ${Date.now() - t0} ms (http_headers_timeout ${HEADERS_SECS} s)`);
  });
  hostile('a connection that sends nothing is closed', async () => {
    const c = await rawConnect(gw.port);
    await Promise.race([c.closed, sleep(HEADERS_SECS * 1000 + 10_000)]);
    assert.ok(c.isClosed());
  });
  hostile('a short body is cut off by http_request_timeout', async () => {
    const c = await rawConnect(gw.port);
    c.write(`POST /api/kernels HTTP/1.1\r\nHost: x\r\nAuthorization: token ${TOKEN}\r\nContent-Length: 100\r\n\r\n{"name":`);
    await Promise.race([c.closed, sleep(REQUEST_SECS * 1000 + 10_000)]);
    assert.ok(c.isClosed(), 'the connection was closed');
    assert.match(c.text(), /^HTTP\/1\.1 408 |^$/);
  });
  hostile('an idle keep-alive connection is closed', async () => {
    const c = await rawConnect(gw.port);
    c.write(`GET /api HTTP/1.1\r\nHost: x\r\nAuthorization: token ${TOKEN}\r\n\r\n`);
    await c.until((t) => t.includes('\r\n\r\n'));
    await Promise.race([c.closed, sleep(12_000)]);
    assert.ok(c.isClosed());
  });
  hostile('a 100 KB header gets a 431', async () => {
    assert.match(await httpAnswer(`GET /api HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(100_000)}\r\n\r\n`), /^HTTP\/1\.1 431 /);
  });
  hostile('a 100 KB URL is refused', async () => {
    assert.match(await httpAnswer(`GET /api/${'a'.repeat(100_000)} HTTP/1.1\r\nHost: x\r\n\r\n`), /^HTTP\/1\.1 (414|431) /);
  });
  hostile('ten thousand small headers are refused', async () => {
    const headers = Array.from({ length: 10_000 }, (_, i) => `X-${i}: v\r\n`).join('');
    assert.match(await httpAnswer(`GET /api HTTP/1.1\r\nHost: x\r\n${headers}\r\n`), /^HTTP\/1\.1 431 /);
  });
  hostile('ten pipelined requests then garbage: ten answers, then the 400', async () => {
    const one = `GET /api HTTP/1.1\r\nHost: x\r\nAuthorization: token ${TOKEN}\r\n\r\n`;
    const text = await httpAnswer(one.repeat(10) + 'NOT HTTP AT ALL\r\n\r\n');
    const statuses = [...text.matchAll(/HTTP\/1\.1 (\d{3}) /g)].map((m) => m[1]);
    assert.deepEqual(statuses, [...Array(10).fill('200'), '400']);
  });
  hostile('an invalid Content-Length', async () => {
    assert.match(await httpAnswer('POST /api/kernels HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n'), /^HTTP\/1\.1 400 /);
  });
  hostile('Content-Length and Transfer-Encoding together', async () => {
    assert.match(await httpAnswer('POST /api/kernels HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n'), /^HTTP\/1\.1 400 /);
  });
  hostile('a chunked body with a bad chunk size', async () => {
    assert.match(await httpAnswer(`POST /api/kernels HTTP/1.1\r\nHost: x\r\nAuthorization: token ${TOKEN}\r\nTransfer-Encoding: chunked\r\n\r\nZZZ\r\nhello\r\n0\r\n\r\n`), /^HTTP\/1\.1 400 /);
  });
  hostile('a header name with control characters', async () => {
    assert.match(await httpAnswer('GET /api HTTP/1.1\r\nHost: x\r\nBad\x7fName: v\r\n\r\n'), /^HTTP\/1\.1 400 /);
  });
  hostile('a request then RST before the answer', async () => {
    const c = await rawConnect(gw.port);
    c.write(`GET /api/kernelspecs HTTP/1.1\r\nHost: x\r\nAuthorization: token ${TOKEN}\r\n\r\n`);
    c.reset();
  });
  hostile('a body announced larger than max_body_size, then RST mid-body', async () => {
    const c = await rawConnect(gw.port);
    c.write(`POST /api/kernels HTTP/1.1\r\nHost: x\r\nAuthorization: token ${TOKEN}\r\nContent-Length: 1000000000\r\n\r\n`);
    c.write(Buffer.alloc(65536, 0x20));
    await sleep(50);
    c.reset();
  });

  // Malformed websocket frames: each closes only its own connection, with the right code.
  hostile('a frame with a reserved opcode', () => closesWith([frame({ opcode: 0x3, payload: 'x' })], 1002));
  hostile('a frame with RSV1 set and no extension', () => closesWith([frame({ opcode: 0x1, rsv: 4, payload: 'x' })], 1002));
  hostile('an unmasked client frame', () => closesWith([frame({ opcode: 0x1, payload: 'x', mask: false })], 1002));
  hostile('a continuation frame with nothing to continue', () => closesWith([frame({ opcode: 0x0, payload: 'x' })], 1002));
  hostile('a new data frame inside a fragmented message', () => closesWith([frame({ opcode: 0x1, fin: false, payload: 'a' }), frame({ opcode: 0x1, payload: 'b' })], 1002));
  hostile('a ping with a 200-byte payload (control frames are at most 125)', () => closesWith([frame({ opcode: 0x9, payload: Buffer.alloc(200) })], 1002));
  hostile('a fragmented ping', () => closesWith([frame({ opcode: 0x9, fin: false, payload: 'p' })], 1002));
  hostile('a message over ws_max_message_size in one frame', () => closesWith([frame({ opcode: 0x2, payload: Buffer.alloc(MAX_MESSAGE + 1) })], 1009));
  hostile('a fragmented message that outgrows the limit and never finishes', () =>
    closesWith(
      Array.from({ length: 20 }, () => frame({ opcode: 0x0, fin: false, payload: Buffer.alloc(64 * 1024) })).map((f, i) => (i === 0 ? frame({ opcode: 0x2, fin: false, payload: Buffer.alloc(64 * 1024) }) : f)),
      1009,
    ),
  );
  hostile('a frame declaring a 2^53-byte payload', () => closesWith([frame({ opcode: 0x2, declaredLength: 2n ** 53n })], 1009));
  hostile('a text frame that is not UTF-8', () => closesWith([frame({ opcode: 0x1, payload: Buffer.from([0xc3, 0x28, 0xff]) })], 1007));
  hostile('a close frame with an invalid code', () => closesWith([frame({ opcode: 0x8, payload: Buffer.from([0x03, 0xe7]) })], 1002));

  // Well-formed frames carrying bad Jupyter messages: logged and ignored, the socket stays open.
  const badMessages: [string, string | Buffer][] = [
    ['text that is not JSON', 'this is not json {'],
    ['a JSON array', '[1,2,3]'],
    ['a message without a header', '{"channel":"shell","content":{}}'],
    ['a header without msg_type', '{"channel":"shell","header":{"msg_id":"a"}}'],
    ['an unknown channel', '{"channel":"nowhere","header":{"msg_id":"a","msg_type":"kernel_info_request"}}'],
    ['content that is a string', '{"channel":"shell","header":{"msg_id":"a","msg_type":"execute_request"},"content":"print(1)"}'],
    ['a legacy binary frame with nonsense offsets', Buffer.from([0, 0, 0, 9, 0xff, 0xff, 0xff, 0xff, 1, 2, 3])],
    ['deeply nested JSON', '['.repeat(100_000) + ']'.repeat(100_000)],
  ];
  for (const [what, payload] of badMessages) {
    hostile(`a websocket message with ${what}`, async () => {
      const ws = await politeSocket();
      ws.send(payload);
      await sleep(100);
      assert.equal(ws.readyState, WebSocket.OPEN, 'the connection stays open');
      ws.close();
    });
  }
  hostile('v1 binary frames with offsets past the end', async () => {
    const ws = await politeSocket('v1.kernel.websocket.jupyter.org');
    const bad = Buffer.alloc(24);
    bad.writeBigUInt64LE(2n, 0);
    bad.writeBigUInt64LE(9_999_999n, 8);
    bad.writeBigUInt64LE(16n, 16);
    ws.send(bad);
    ws.send(Buffer.from([1, 2, 3]));
    await sleep(100);
    assert.equal(ws.readyState, WebSocket.OPEN);
    ws.close();
  });
  hostile('a flood of 1000 requests on one websocket', async () => {
    const ws = await politeSocket();
    try {
      let replies = 0;
      ws.on('message', (d) => {
        if (String(d).includes('kernel_info_reply')) replies++;
      });
      for (let i = 0; i < 1000; i++) ws.send(JSON.stringify({ channel: 'shell', header: { msg_id: `f${i}`, msg_type: 'kernel_info_request', session: 's', username: 'u', version: '5.3' }, parent_header: {}, metadata: {}, content: {} }));
      // Every request is answered (a loaded machine answers slowly, hence the long wait).
      await waitFor(() => replies >= 1000, 200_000, 100);
      assert.equal(replies, 1000);
    } finally {
      ws.close();
    }
  });

  // Storms.
  hostile('300 connections opened and reset at once', async () => {
    const clients = await Promise.all(Array.from({ length: 300 }, () => rawConnect(gw.port)));
    clients.forEach((c, i) => {
      if (i % 3 === 0) c.write(upgradeRequest(channels));
      else if (i % 3 === 1) c.write(noToken());
      else c.write(`GET /api HTTP/1.1\r\nHost: x\r\nAuthorization: token ${TOKEN}\r\n\r\n`);
    });
    for (const c of clients) c.reset();
  });
  hostile('100 websockets accepted at once, then all reset', async () => {
    const count = async (): Promise<number> => ((await (await fetch(`${gw.url}/api/kernels/${kernelId}`, { headers: AUTH })).json()) as { connections: number }).connections;
    const before = await count();
    const clients = await Promise.all(Array.from({ length: 100 }, () => upgraded()));
    assert.ok((await count()) >= 100, 'all 100 count while open');
    for (const c of clients) c.reset();
    assert.ok(await waitFor(async () => (await count()) <= before, 20_000, 100), `all 100 stop counting (${await count()} counted, ${before} before)`);
  });

  for (const c of cases) {
    test(c.name, async () => {
      await c.run();
      await healthy();
      survived++;
    });
  }

  test('after all of it the gateway holds about as many descriptors as at the start', async () => {
    const pid = gw.proc.pid!;
    // One kernel's ZeroMQ sockets, the listener and stdio: a few dozen at most.
    assert.ok(await waitFor(() => openFds(pid) < 80, 15_000, 250), `open fds: ${openFds(pid)}`);
    console.log(`# gateway fds after ${cases.length} hostile cases: ${openFds(pid)}`);
  });
});
