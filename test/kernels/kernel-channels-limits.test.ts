// A kernel's ZeroMQ sockets against the process's limits, in a child process under `ulimit -n`
// (no kernels needed: the sockets connect to a TCP listener that never answers). ZeroMQ's own
// cap of 1023 sockets (146 kernels at 7 sockets each) no longer binds; out of fds, opening a kernel's channels
// fails with OutOfFileDescriptorsError and leaves nothing open, the channels already open beat
// (false) without throwing, and all of it closes and frees its fds.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { promisify } from 'node:util';

const CHANNELS_MODULE = new URL('../../src/kernels/kernel-channels.js', import.meta.url).href;

/** Runs `script` (an ES module) under `ulimit -n limit`; its last stdout line is its JSON report. */
async function underLimit(limit: number, script: string, args: string[] = []): Promise<Record<string, unknown>> {
  try {
    const { stdout } = await promisify(execFile)('bash', ['-c', 'ulimit -n "$0" && exec "$@"', String(limit), process.execPath, '--input-type=module', '-e', script, ...args], { timeout: 60_000 });
    return JSON.parse(stdout.trim().split('\n').pop()!) as Record<string, unknown>;
  } catch (err) {
    const e = err as { killed?: boolean; stdout?: string; stderr?: string };
    // A wedged ZeroMQ reaper thread shows as a child that never exits.
    throw new Error(`the child under ulimit -n ${limit} ${e.killed ? 'did not exit within 60 s' : 'failed'}:\n${e.stdout ?? ''}${e.stderr ?? ''}`.slice(0, 4000), { cause: err });
  }
}

/** What the child scripts share: a quiet logger, fd counting, connection info for a port. */
const PRELUDE = `
import { readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { KernelChannels } from ${JSON.stringify(CHANNELS_MODULE)};
const zmq = createRequire(${JSON.stringify(CHANNELS_MODULE)})('zeromq');
const quiet = { debug() {}, info() {}, warn() {}, error() {} };
const fds = () => {
  try {
    return readdirSync('/proc/self/fd').length - 1;
  } catch (err) {
    return err.code;
  }
};
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const info = (port) => ({ transport: 'tcp', ip: '127.0.0.1', shell_port: port, iopub_port: port, stdin_port: port, control_port: port, hb_port: port, key: 'k', signature_scheme: 'hmac-sha256', kernel_name: 'none' });
const describe = (err) => err && { name: err.name, code: err.code, status: err.status, message: err.message };
`;

/** A listener that accepts and never answers: ZeroMQ's connections stay up, mid-handshake. */
let listener: Server;
let port: number;
const accepted = new Set<Socket>();

before(async () => {
  listener = createServer((socket) => {
    accepted.add(socket);
    socket.on('error', () => undefined);
    socket.once('close', () => accepted.delete(socket));
  });
  await new Promise<void>((resolve) => listener.listen(0, '127.0.0.1', resolve));
  port = (listener.address() as AddressInfo).port;
});

after(async () => {
  for (const socket of accepted) socket.destroy();
  await new Promise((resolve) => listener.close(resolve));
});

test("ZeroMQ's socket cap is lifted to the open-file limit: 160 kernels' channels (1120 sockets, past its 1023) open", async () => {
  const report = await underLimit(
    4096,
    `${PRELUDE}
    const open = [];
    let error;
    try {
      for (let i = 0; i < 160; i++) open.push(new KernelChannels(info(Number(process.argv[1])), quiet));
    } catch (err) {
      error = describe(err);
    }
    const maxSockets = zmq.context.maxSockets;
    for (const c of open) c.close();
    console.log(JSON.stringify({ opened: open.length, error, maxSockets }));`,
    [String(port)],
  );
  assert.deepEqual(report, { opened: 160, maxSockets: 4096 });
});

test('out of fds: opening fails with a 503 error and leaves nothing open; what is open beats, closes and frees its fds', async () => {
  const report = await underLimit(
    100,
    `${PRELUDE}
    const port = Number(process.argv[1]);
    const beforeAny = fds();
    const open = [];
    let error, fdsBefore, fdsAfter;
    const held = [];
    for (let i = 0; i < 20 && !error; i++) {
      fdsBefore = fds();
      try {
        open.push(new KernelChannels(info(port), quiet));
      } catch (err) {
        error = describe(err);
        fdsAfter = fds();
        break;
      }
      // Until its 5 TCP connections are up (libzmq makes them on its own thread).
      for (let t = 0; t < 200 && fds() < fdsBefore + 12; t++) await sleep(50);
      await sleep(100);
      held.push(fds() - fdsBefore);
    }
    const beats = await Promise.allSettled(open.map((c) => c.heartbeat(200)));
    for (const c of open) c.close();
    // libzmq's reaper frees closed sockets on its own thread; a wedged reaper never would.
    for (let t = 0; t < 200 && fds() > beforeAny + 5; t++) await sleep(50);
    console.log(JSON.stringify({ opened: open.length, error, fdsBefore, fdsAfter, beats: beats.map((b) => b.status === 'fulfilled' ? b.value : 'rejected: ' + b.reason?.message), closedFds: fds() - beforeAny, held }));`,
    [String(port)],
  );
  const error = report.error as Record<string, unknown> | undefined;
  assert.ok(error, `all 20 channels opened under ulimit -n 100: ${JSON.stringify(report)}`);
  assert.ok((report.opened as number) >= 2, JSON.stringify(report));
  assert.equal(error.name, 'OutOfFileDescriptorsError', JSON.stringify(error));
  assert.equal(error.code, 'KG_ERR_OUT_OF_FILE_DESCRIPTORS');
  assert.equal(error.status, 503);
  assert.match(String(error.message), /^Out of file descriptors \(EMFILE\)/);
  assert.equal(report.fdsAfter, report.fdsBefore, 'the failed open left no fd behind');
  // 7 ZeroMQ sockets (stdin's monitor is 2 of them; shell and control have none) and 5 TCP connections.
  // (The first also starts ZeroMQ's context, which has fds of its own.)
  assert.deepEqual((report.held as number[]).slice(1), Array((report.opened as number) - 1).fill(12), 'fds each kernel\'s channels hold');
  assert.deepEqual(report.beats, Array(report.opened as number).fill(false), 'no echo from the listener: false, not a rejection');
  // ZeroMQ's context keeps its own 5 (I/O thread and reaper pollers and mailboxes).
  assert.ok((report.closedFds as number) <= 5, `${report.closedFds} fds left open after every channel closed`);
});
