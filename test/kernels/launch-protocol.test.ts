// Enterprise Gateway's launch protocol against its real, unmodified python launcher run as a
// local process: the response listener receives and decrypts its payload, the gateway's
// ZeroMQ channels reach the kernel, the comm_port interrupts and shuts it down; hostile
// senders on the response port are dropped and the listener keeps working.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { CommPortError, LaunchCancelledError, LaunchPayloadError, LaunchResponseTimeoutError, ResponseListenerError } from '../../src/errors.js';
import { listenerGone, shutdownLauncher, signalKernel } from '../../src/kernels/launch-protocol/comm-port.js';
import { LaunchKey, openEnvelope, parseEnvelope } from '../../src/kernels/launch-protocol/payload.js';
import { parsePortRange, portRangeProblem } from '../../src/kernels/launch-protocol/port-range.js';
import { ResponseListener, type LaunchResponse } from '../../src/kernels/launch-protocol/response-listener.js';
import type { Logger } from '../../src/kernels/logger.js';
import { DirectKernelClient } from '../helpers/direct-kernel-client.js';
import { closedByPeer, encryptLikeLauncher, sendRaw, spawnLocalLauncher, type LocalLauncher } from '../helpers/eg-launcher.js';
import { launcherUnavailable } from '../helpers/engines.js';

class CapturingLogger implements Logger {
  readonly lines: string[] = [];
  private waiters: (() => void)[] = [];
  debug(m: string): void { this.push(`debug ${m}`); }
  info(m: string): void { this.push(`info ${m}`); }
  warn(m: string): void { this.push(`warn ${m}`); }
  error(m: string): void { this.push(`error ${m}`); }
  private push(line: string): void {
    this.lines.push(line);
    for (const w of this.waiters.splice(0)) w();
  }
  /** Waits for a line matching `re` after the first `from` lines. */
  async waitFor(re: RegExp, from = 0, timeoutMs = 30_000): Promise<string> {
    const end = Date.now() + timeoutMs;
    for (;;) {
      const line = this.lines.slice(from).find((l) => re.test(l));
      if (line) return line;
      if (Date.now() > end) throw new Error(`no log line matching ${re}; got:\n${this.lines.join('\n')}`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, 200);
        this.waiters.push(() => (clearTimeout(t), resolve()));
      });
    }
  }
}

/** A plausible connection info for hand-made payloads. */
const noLauncher = await launcherUnavailable();

const fakeInfo = (kernelId: string): Record<string, unknown> => ({ shell_port: 50001, iopub_port: 50002, stdin_port: 50003, control_port: 50004, hb_port: 50005, ip: '0.0.0.0', key: randomUUID(), transport: 'tcp', signature_scheme: 'hmac-sha256', kernel_name: '', pid: 1, pgid: 1, comm_port: 50006, kernel_id: kernelId });

describe('payload and port range', () => {
  test('a payload made by the launcher\'s own _encrypt opens with its key only', { skip: noLauncher }, async () => {
    const key = await LaunchKey.generate();
    const other = await LaunchKey.generate();
    assert.match(key.publicKey, /^[A-Za-z0-9+/]+=*$/, 'one base64 line, as the launcher takes it');
    const id = randomUUID();
    const envelope = parseEnvelope(await encryptLikeLauncher(fakeInfo(id), key.publicKey));
    const info = openEnvelope(envelope, key);
    assert.equal(info?.kernelId, id);
    assert.equal(info?.commPort, 50006);
    assert.equal(info?.connection.shell_port, 50001);
    assert.equal(openEnvelope(envelope, other), undefined, 'another launch\'s key does not open it');
  });

  test('outer layers that are not a version 1 payload are refused', () => {
    const b64 = (v: unknown): string => Buffer.from(JSON.stringify(v)).toString('base64');
    for (const bad of ['', 'not base64!', Buffer.from('not json').toString('base64'), b64([1]), b64({ version: 0, key: '', conn_info: '' }), b64({ version: 1, key: 'AAAA', conn_info: 'AAA=' }), b64({ version: 1, key: '%%', conn_info: 'AAAAAAAAAAAAAAAAAAAAAA==' })]) {
      assert.throws(() => parseEnvelope(bad), LaunchPayloadError, JSON.stringify(bad));
    }
  });

  test('port ranges follow the launchers\' rules', () => {
    assert.equal(portRangeProblem('0..0'), undefined);
    assert.equal(portRangeProblem('40000..41000'), undefined);
    assert.deepEqual(parsePortRange('40000..41000'), { lower: 40000, upper: 41000 });
    for (const bad of ['', '40000', '40000..40500', '100..5000', '60000..70000', '41000..40000', 'a..b']) assert.ok(portRangeProblem(bad), bad);
  });
});

describe('response listener', () => {
  test('a taken response port moves to the next one up; the address is what launchers are told', async () => {
    const quiet = new CapturingLogger();
    const first = new ResponseListener({ ip: '127.0.0.1', port: 0, log: quiet });
    await first.start();
    const second = new ResponseListener({ ip: '127.0.0.1', port: first.port, log: quiet, portRetries: 3 });
    await second.start();
    try {
      assert.ok(second.port > first.port && second.port <= first.port + 3, `${second.port} after ${first.port}`);
      assert.equal(second.address, `127.0.0.1:${second.port}`);
      const launch = await second.expect(randomUUID(), 60_000);
      assert.equal(launch.responseAddress, second.address);
      const none = new ResponseListener({ ip: '127.0.0.1', port: first.port, log: quiet, portRetries: 0 });
      await assert.rejects(none.start(), ResponseListenerError);
      assert.throws(() => none.address, ResponseListenerError);
    } finally {
      await second.close();
      await first.close();
    }
  });
});

describe('the real launcher, run locally', { skip: noLauncher }, () => {
  const log = new CapturingLogger();
  const listener = new ResponseListener({ ip: '127.0.0.1', port: 0, log, readTimeoutMs: 1000 });
  const launchers: LocalLauncher[] = [];
  const clients: DirectKernelClient[] = [];
  const diagnostics: string[] = [];
  before(() => listener.start());
  after(async () => {
    for (const c of clients) c.close();
    for (const l of launchers) l.kill();
    await listener.close();
    for (const d of diagnostics) console.log(d);
  });

  async function launch(portRange?: string): Promise<{ launcher: LocalLauncher; client: DirectKernelClient; response: LaunchResponse; kernelId: string }> {
    const kernelId = randomUUID();
    const started = Date.now();
    const expected = await listener.expect(kernelId, 60_000);
    const launcher = spawnLocalLauncher({ kernelId, responseAddress: expected.responseAddress, publicKey: expected.publicKey, portRange });
    launchers.push(launcher);
    const response = await expected.response.catch((err: Error) => {
      throw new Error(`${err.message}\nlauncher output:\n${launcher.logs()}`);
    });
    const client = new DirectKernelClient(response.connection);
    clients.push(client);
    await client.ready();
    diagnostics.push(`local launcher to a kernel answering kernel_info: ${((Date.now() - started) / 1000).toFixed(2)} s`);
    return { launcher, client, response, kernelId };
  }

  test('connection info arrives decrypted; the kernel runs 1+1; comm_port interrupts it; shutdown leaves no process', async () => {
    const { launcher, client, response, kernelId } = await launch();
    assert.equal(response.kernelId, kernelId);
    assert.equal(response.pid, launcher.proc.pid, 'the launcher reports its own pid');
    assert.equal(response.peerAddress, '127.0.0.1');
    assert.equal(response.host, '127.0.0.1', 'the launcher reports 0.0.0.0: the sender\'s address is used');
    assert.ok(response.commPort > 0);
    assert.deepEqual(listener.pending, []);

    const { reply, result } = await client.execute('1+1');
    assert.equal(reply.status, 'ok');
    assert.equal(result, '2');

    const comm = { host: response.host, port: response.commPort };
    // ipykernel ignores SIGINT until the code runs: interrupt once it has printed.
    const sleeping = await client.startExecute("import time; print('sleeping', flush=True); time.sleep(120)");
    await client.waitFor((r) => r.channel === 'iopub' && r.msg.msgType === 'stream' && r.msg.parentMsgId === sleeping, 30_000, 'the sleeping output');
    await signalKernel(comm, 2);
    const interrupted = await client.waitFor((r) => r.channel === 'shell' && r.msg.msgType === 'execute_reply' && r.msg.parentMsgId === sleeping, 30_000, 'the interrupted reply');
    assert.equal(interrupted.msg.contentJson().status, 'error');
    assert.equal(interrupted.msg.contentJson().ename, 'KeyboardInterrupt');
    assert.equal((await client.execute('40+2')).result, '42', 'the kernel lives on after the interrupt');

    // Enterprise Gateway's order: shutdown_request to the kernel, then {"shutdown": 1} to the
    // listener, which may already be gone with its kernel (refused or reset: done either way).
    await client.shutdownRequest();
    client.close();
    await shutdownLauncher(comm).catch((err: unknown) => assert.ok(listenerGone(err), String(err)));
    await launcher.gone();
    await assert.rejects(signalKernel(comm, 0), (err: unknown) => err instanceof CommPortError && listenerGone(err));
  });

  test('signum 15 through comm_port ends the kernel and its listener; the port range is honoured', async () => {
    const { launcher, client, response } = await launch('40000..42000');
    for (const port of [response.connection.shell_port, response.connection.iopub_port, response.commPort]) assert.ok(port >= 40000 && port <= 42000, `port ${port} in the range`);
    client.close();
    const comm = { host: response.host, port: response.commPort };
    await signalKernel(comm, 15);
    await shutdownLauncher(comm).catch((err: unknown) => assert.ok(listenerGone(err), String(err)));
    await launcher.gone();
  });

  test('garbage, oversized, half-open, unknown, mis-addressed and late payloads are dropped; the listener still serves a launch', async () => {
    const address = listener.address;
    let from = log.lines.length;
    await closedByPeer(await sendRaw(address, 'definitely not a payload\n'));
    await log.waitFor(/warn Dropped a response payload from 127\.0\.0\.1: the payload is not base64/, from);

    from = log.lines.length;
    const big = await sendRaw(address, Buffer.alloc(200 * 1024, 'A'), false);
    await closedByPeer(big);
    await log.waitFor(/more than 65536 bytes/, from);

    from = log.lines.length;
    const halfOpen = await sendRaw(address, 'eyJ2ZXJza', false);
    await closedByPeer(halfOpen);
    await log.waitFor(/nothing complete within 1 s/, from);

    from = log.lines.length;
    const reset = await sendRaw(address, 'eyJ2', false);
    reset.resetAndDestroy();

    // A well-made payload for a kernel nobody launched.
    const stranger = await LaunchKey.generate();
    from = log.lines.length;
    await closedByPeer(await sendRaw(address, await encryptLikeLauncher(fakeInfo(randomUUID()), stranger.publicKey)));
    await log.waitFor(/no kernel being launched has the key/, from);

    // Encrypted for one launch but naming another kernel: dropped, and that launch still waits.
    const waiting = randomUUID();
    const expected = await listener.expect(waiting, 60_000);
    from = log.lines.length;
    await closedByPeer(await sendRaw(address, await encryptLikeLauncher(fakeInfo(randomUUID()), expected.publicKey)));
    await log.waitFor(/names kernel .* but was encrypted for kernel/, from);
    assert.deepEqual(listener.pending, [waiting]);
    listener.cancel(waiting);
    await assert.rejects(expected.response, LaunchCancelledError);

    // A launch whose timeout passed: its payload is refused afterwards.
    const late = randomUUID();
    const lateLaunch = await listener.expect(late, 200);
    await assert.rejects(lateLaunch.response, LaunchResponseTimeoutError);
    from = log.lines.length;
    await closedByPeer(await sendRaw(address, await encryptLikeLauncher(fakeInfo(late), lateLaunch.publicKey)));
    await log.waitFor(/no kernel being launched has the key/, from);

    // After all that, a real launch works on the same listener.
    const { launcher, client, response } = await launch();
    assert.equal((await client.execute('6*7')).result, '42');
    await client.shutdownRequest();
    client.close();
    await shutdownLauncher({ host: response.host, port: response.commPort }).catch((err: unknown) => assert.ok(listenerGone(err), String(err)));
    await launcher.gone();
  });

  test('a kernel registered again replaces its earlier launch; close cancels what is pending', async () => {
    const own = new ResponseListener({ ip: '127.0.0.1', port: 0, log: new CapturingLogger() });
    const id = randomUUID();
    const first = await own.expect(id, 60_000);
    const second = await own.expect(id, 60_000);
    await assert.rejects(first.response, LaunchCancelledError);
    assert.notEqual(first.publicKey, second.publicKey, 'a fresh key per launch');
    await own.close();
    await assert.rejects(second.response, LaunchCancelledError);
  });
});
