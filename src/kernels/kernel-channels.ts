// The ZeroMQ side of one kernel: DEALER sockets for shell, control and stdin, a SUB socket
// for iopub (subscribed to everything) and a REQ socket for the heartbeat. Frames are
// signed on the way out and verified on the way in; a bad message is dropped and logged.
// All five are made at once, so a kernel either gets every socket it needs or fails to start.
// Only stdin's connection is watched (a socket monitor, 2 more ZeroMQ sockets): see whenConnected.
import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { Dealer, Request, Subscriber, context as zmqContext, type Socket } from 'zeromq';
import type { Channel } from '../protocol/message.js';
import { MessageSigner } from '../protocol/signing.js';
import { RawMessage, decodeWire, encodeWire } from '../protocol/wire.js';
import { endpoint, type ConnectionInfo } from './connection-file.js';
import type { Logger } from './logger.js';
import { FDS_PER_KERNEL_CHANNELS, freeDescriptors, openFileLimit, isOutOfDescriptors } from './descriptors.js';
import { KernelLaunchError, KernelNotReadingError, OutOfFileDescriptorsError } from '../errors.js';

export type RequestChannel = Exclude<Channel, 'iopub'>;

/** How long one send may wait for room in ZeroMQ's queue to a kernel. */
const SEND_TIMEOUT_MS = 5000;
/** Sends waiting per channel past which more are refused outright. */
const MAX_QUEUED_SENDS = 1000;

let contextPrepared = false;

/**
 * Lifts ZeroMQ's own socket cap (ZMQ_MAX_SOCKETS, 1023 on zeromq.js's global context: 146
 * kernels at 7 sockets each) to the open-file limit, so that the fd limit, which the operator
 * controls, is what binds: every ZeroMQ socket holds at least one fd, so the process runs out of
 * fds before it could reach this many sockets. libzmq reads the cap when the context makes its
 * first socket, so this runs before any.
 */
export function prepareZmqContext(): number {
  if (!contextPrepared) {
    contextPrepared = true;
    const fds = openFileLimit();
    const cap = Math.min(zmqContext.maxSocketsLimit, fds === undefined ? Infinity : fds);
    if (cap > zmqContext.maxSockets) zmqContext.maxSockets = cap;
  }
  return zmqContext.maxSockets;
}

/** Frames up to this size are copied out of ZeroMQ's memory as they arrive (see ownCopy). */
const COPY_FRAMES_UP_TO = 64 * 1024;
/** zeromq.js copies frames up to this size itself (zero_copy_threshold in its incoming_msg.cc). */
const ZEROMQ_COPIES_UP_TO = 128;

/**
 * zeromq.js hands over a received frame above 128 bytes without copying it: the Buffer points
 * into libzmq's message, freed when V8 collects the Buffer. A small frame's bytes live in the
 * decoder's shared 8 KiB batch buffer, and each such Buffer keeps the whole batch buffer (and
 * its message counters) alive while V8 is told only of the frame's own bytes: so V8 sees no
 * reason to collect, and under steady traffic the process held about 9 KiB per message
 * (figure 4 of the bench: 85 MiB idle, 300 MiB after 10 s of closed loops on 8 kernels). Small
 * frames are copied into Node's own memory instead, and the ZeroMQ message is dropped at once;
 * large ones (outputs) have allocations of their own and are kept as they are.
 */
function ownCopy(frame: Buffer): Buffer {
  return frame.length > ZEROMQ_COPIES_UP_TO && frame.length <= COPY_FRAMES_UP_TO ? Buffer.from(frame) : frame;
}

export interface KernelChannelsEvents {
  message: [channel: Channel, msg: RawMessage];
}

export class KernelChannels extends EventEmitter<KernelChannelsEvents> {
  private readonly signer: MessageSigner;
  private readonly dealers: Record<RequestChannel, Dealer>;
  private readonly iopub: Subscriber;
  private readonly sendChains = new Map<RequestChannel, Promise<unknown>>();
  private readonly queued = new Map<RequestChannel, number>();
  /** Channels whose last send timed out: sends fail at once until the kernel reads again. */
  private readonly stalled = new Set<RequestChannel>();
  private closed = false;
  /** Whether stdin is connected to the kernel now. */
  private stdinConnected = false;
  private connectWaiters: (() => void)[] = [];
  /** The heartbeat socket, and the beat in flight. */
  private readonly hb: Request;
  private beat?: Promise<boolean>;

  /** Opens the kernel's sockets; throws OutOfFileDescriptorsError (or KernelLaunchError) with
   *  none of them left open when one cannot be made. */
  constructor(
    info: ConnectionInfo,
    private readonly log: Logger,
  ) {
    super();
    this.signer = new MessageSigner(info.key, info.signature_scheme);
    prepareZmqContext();
    // Counted before the first socket, and none made unless all fit: a socket monitor whose own
    // socket cannot be made (EMFILE halfway through `.events`) wedges libzmq's reaper thread for
    // good (its stop_monitor blocks sending to a PAIR nobody connected), and from then on no
    // closed socket is ever freed and the process cannot exit.
    const free = freeDescriptors();
    if (free !== undefined && free < FDS_PER_KERNEL_CHANNELS) {
      throw new OutOfFileDescriptorsError(`Out of file descriptors (EMFILE): the kernel's ZeroMQ sockets need about ${FDS_PER_KERNEL_CHANNELS} and ${free} of the open-file limit ${openFileLimit()} are left; end some kernels or raise the open-file limit (ulimit -n)`);
    }
    const made: Socket[] = [];
    const make = <S extends Socket>(socket: () => S): S => {
      const s = socket();
      made.push(s);
      return s;
    };
    try {
      // One routing id for all DEALERs, as jupyter_client does: the kernel sends input_request on
      // stdin to the identity its shell request came from.
      const routingId = `gw-${randomUUID()}`;
      const dealer = (): Dealer => make(() => new Dealer({ linger: 0, immediate: false, routingId }));
      this.dealers = { shell: dealer(), control: dealer(), stdin: dealer() };
      // Each DEALER reconnects on its own after the kernel binds (or rebinds after a restart).
      // What shell and control send waits in their queues until then (immediate: false), but
      // the kernel's stdin ROUTER drops an input_request for a peer not yet connected, silently:
      // so stdin's connection is the one readiness waits for, and the only one monitored. (A
      // monitor is 2 more ZeroMQ sockets, with their memory: at 100 kernels under load, monitors
      // on all three held about 35 MiB more than on stdin alone. zeromq.js cannot stop one
      // before its socket closes, so it stays for the socket's life.)
      const stdinEvents = this.dealers.stdin.events;
      stdinEvents.on('handshake', () => {
        this.stdinConnected = true;
        for (const wake of this.connectWaiters.splice(0)) wake();
      });
      stdinEvents.on('disconnect', () => (this.stdinConnected = false));
      this.dealers.shell.connect(endpoint(info, info.shell_port));
      this.dealers.control.connect(endpoint(info, info.control_port));
      this.dealers.stdin.connect(endpoint(info, info.stdin_port));
      this.iopub = make(() => new Subscriber({ linger: 0 }));
      this.iopub.connect(endpoint(info, info.iopub_port));
      this.iopub.subscribe();
      // Made now rather than at the first beat: a kernel that started has all its sockets, and
      // running out of fds later cannot leave it without a heartbeat (and flatline it).
      this.hb = make(() => new Request({ linger: 0, relaxed: true, correlate: true }));
      this.hb.connect(endpoint(info, info.hb_port));
    } catch (err) {
      for (const s of made) s.close();
      const why = (err as Error).message;
      if (isOutOfDescriptors(err)) {
        const limits = `the open-file limit is ${openFileLimit() ?? 'unknown'}, ZeroMQ's socket cap ${zmqContext.maxSockets}`;
        throw new OutOfFileDescriptorsError(`Out of file descriptors (EMFILE): the kernel's ZeroMQ sockets could not be opened (${why}; ${limits}); end some kernels or raise the open-file limit (ulimit -n)`, { cause: err });
      }
      throw new KernelLaunchError(`The kernel's ZeroMQ sockets could not be opened: ${why}`, { cause: err });
    }
    for (const channel of ['shell', 'control', 'stdin'] as const) void this.receiveLoop(channel, this.dealers[channel]);
    void this.receiveLoop('iopub', this.iopub);
  }

  /** Signs and sends; sends on one socket are serialised (zeromq.js allows one at a time).
   *  A kernel that stops reading cannot make the queue grow without bound: a send that cannot
   *  be queued within SEND_TIMEOUT_MS fails, the sends queued behind it fail at once until one
   *  gets through again, and past MAX_QUEUED_SENDS new sends are refused. */
  send(channel: RequestChannel, msg: RawMessage): Promise<void> {
    if (this.closed) return Promise.reject(new Error('kernel channels are closed'));
    const queued = this.queued.get(channel) ?? 0;
    if (queued >= MAX_QUEUED_SENDS) return Promise.reject(new KernelNotReadingError(`the kernel is not reading its ${channel} channel (${queued} messages waiting)`));
    const socket = this.dealers[channel];
    const frames = encodeWire(msg, this.signer);
    this.queued.set(channel, queued + 1);
    const previous = this.sendChains.get(channel) ?? Promise.resolve();
    const next = previous
      .catch(() => undefined)
      .then(async () => {
        if (this.closed) throw new Error('kernel channels are closed');
        const stalled = this.stalled.has(channel);
        socket.sendTimeout = stalled ? 0 : SEND_TIMEOUT_MS;
        try {
          await socket.send(frames);
          this.stalled.delete(channel);
        } catch (err) {
          if ((err as { code?: string }).code !== 'EAGAIN') throw err;
          this.stalled.add(channel);
          throw new KernelNotReadingError(`the kernel did not take a message on ${channel} within ${stalled ? 0 : SEND_TIMEOUT_MS / 1000} s`);
        }
      })
      .finally(() => this.queued.set(channel, (this.queued.get(channel) ?? 1) - 1));
    this.sendChains.set(channel, next);
    return next;
  }

  private async receiveLoop(channel: Channel, socket: Socket & AsyncIterable<Buffer[]>): Promise<void> {
    try {
      for await (const frames of socket) {
        let msg: RawMessage;
        try {
          msg = decodeWire(frames.map(ownCopy), this.signer).message;
          // A message without readable headers cannot be routed.
          void msg.headerJson;
          void msg.parentJson;
        } catch (err) {
          this.log.warn(`Dropped a message on ${channel}: ${(err as Error).message}`);
          continue;
        }
        try {
          this.emit('message', channel, msg);
        } catch (err) {
          // One message that trips a listener must not end this channel's loop.
          this.log.error(`Handling a ${msg.msgType} message on ${channel} failed: ${(err as Error).stack ?? err}`);
        }
      }
    } catch (err) {
      if (!this.closed) this.log.error(`ZeroMQ ${channel} socket failed: ${(err as Error).message}`);
    }
  }

  /** Resolves true once stdin is connected to the kernel (false on timeout): the caller has seen
   *  the kernel answer on shell, and control's sends queue until it connects. */
  whenConnected(timeoutMs: number): Promise<boolean> {
    if (this.stdinConnected) return Promise.resolve(true);
    return new Promise((resolve) => {
      const wake = (): void => {
        clearTimeout(timer);
        resolve(true);
      };
      const timer = setTimeout(() => {
        this.connectWaiters = this.connectWaiters.filter((w) => w !== wake);
        resolve(false);
      }, timeoutMs);
      this.connectWaiters.push(wake);
    });
  }

  /**
   * Answers true if the kernel echoes a heartbeat within `timeoutMs`, else false (it never
   * rejects). One REQ socket serves every beat (relaxed, so a beat that timed out does not wedge
   * it; correlated, so a late echo of an earlier beat is not taken for this one's); a beat asked
   * for while one is out joins it.
   */
  heartbeat(timeoutMs: number): Promise<boolean> {
    if (this.closed) return Promise.resolve(false);
    this.beat ??= this.beatOnce(timeoutMs).finally(() => (this.beat = undefined));
    return this.beat;
  }

  private async beatOnce(timeoutMs: number): Promise<boolean> {
    const hb = this.hb;
    try {
      hb.sendTimeout = timeoutMs;
      hb.receiveTimeout = timeoutMs;
      await hb.send('ping');
      await hb.receive();
      return true;
    } catch {
      return false;
    }
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const s of Object.values(this.dealers)) s.close();
    this.iopub.close();
    this.hb.close();
  }
}
