// The one catalogue of the gateway's errors, for every layer (it imports nothing, so any layer
// may use it). Each error has a stable `code` (KG_ERR_*), a `name`, the HTTP `status` it answers
// with when a request caused it (src/http/error-response.ts turns it into the original's
// {reason, message} body), and keeps what caused it in `cause`.
//
// `instanceof` recognises an error by a Symbol.for() mark per class, not by prototype, so it
// also holds across two copies of this package (a plug-in that bundles its own), as undici's
// errors do: `err instanceof KernelLimitError` is true for a KernelLimitError of either copy.

const MARK_PREFIX = 'kernel-gateway.error:';
const mark = (code: string): symbol => Symbol.for(MARK_PREFIX + code);

export interface GatewayErrorOptions {
  cause?: unknown;
  /** Overrides the class's HTTP status (HttpError's is per instance). */
  status?: number;
}

export class GatewayError extends Error {
  static readonly code: string = 'KG_ERR';
  /** The HTTP status a request that failed with this error gets; undefined: 500. */
  static readonly status: number | undefined = undefined;

  readonly code: string;
  readonly status: number | undefined;

  constructor(message = '', options: GatewayErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    const cls = new.target as typeof GatewayError;
    this.name = cls.name;
    this.code = cls.code;
    this.status = options.status ?? cls.status;
    // One mark for this class and one for each catalogue class above it.
    for (let c: unknown = cls; typeof c === 'function' && c !== Error; c = Object.getPrototypeOf(c)) {
      if (Object.hasOwn(c, 'code')) Object.defineProperty(this, mark((c as typeof GatewayError).code), { value: true });
    }
  }

  static override [Symbol.hasInstance](value: unknown): boolean {
    return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[mark(this.code)] === true;
  }
}

/** Whether `err` comes from this catalogue (of any copy of the package). */
export function isGatewayError(err: unknown): err is GatewayError {
  return err instanceof GatewayError;
}

// ---- HTTP -----------------------------------------------------------------------------------

/** A request refused or failed with a given status; `reason` is the body's reason phrase. */
export class HttpError extends GatewayError {
  static override readonly code: string = 'KG_ERR_HTTP';
  declare readonly status: number;
  /** The reason phrase of the body; undefined: the status's standard phrase. */
  readonly reason: string | undefined;

  constructor(status: number, message = '', reason?: string, options: { cause?: unknown } = {}) {
    super(message, { status, cause: options.cause });
    this.reason = reason;
  }
}

// ---- configuration and start-up -------------------------------------------------------------

/** A bad option value or name (exit code 2). */
export class OptionError extends GatewayError {
  static override readonly code: string = 'KG_ERR_OPTION';
}

/** The gateway could not start (exit code 1). */
export class StartupError extends GatewayError {
  static override readonly code: string = 'KG_ERR_STARTUP';
}

/** --api names a module that cannot be loaded or exports no createPersonality. */
export class PersonalityLoadError extends GatewayError {
  static override readonly code: string = 'KG_ERR_PERSONALITY_LOAD';
}

/** certfile / keyfile / client_ca unusable. */
export class TlsConfigError extends GatewayError {
  static override readonly code: string = 'KG_ERR_TLS_CONFIG';
}

/** A personality cannot serve with the config it was given (notebook-http without a seed notebook or endpoints, an unknown cell_parser). */
export class PersonalityConfigError extends GatewayError {
  static override readonly code: string = 'KG_ERR_PERSONALITY_CONFIG';
}

/** seed_uri (or a notebook-http seed) is not a readable nbformat 4 notebook. */
export class NotebookError extends GatewayError {
  static override readonly code: string = 'KG_ERR_NOTEBOOK';
}

// ---- protocol -------------------------------------------------------------------------------

/** A kernel or client message that does not follow the wire or websocket protocol. */
export class WireError extends GatewayError {
  static override readonly code: string = 'KG_ERR_WIRE';
}

// ---- kernels --------------------------------------------------------------------------------

/** A kernelspec file that cannot be used. */
export class KernelSpecError extends GatewayError {
  static override readonly code: string = 'KG_ERR_KERNELSPEC';
}

/** No kernelspec of that name (POST /api/kernels: 500 like the original; sessions: 501). */
export class NoSuchKernelSpecError extends GatewayError {
  static override readonly code: string = 'KG_ERR_NO_SUCH_KERNELSPEC';
}

/** max_kernels reached. */
export class KernelLimitError extends GatewayError {
  static override readonly code: string = 'KG_ERR_KERNEL_LIMIT';
  static override readonly status: number | undefined = 403;
}

/** A kernel did not start. */
export class KernelLaunchError extends GatewayError {
  static override readonly code: string = 'KG_ERR_KERNEL_LAUNCH';
}

/** A kernelspec names a provisioner (or Enterprise Gateway process proxy) this gateway does not have. */
export class UnknownProvisionerError extends KernelLaunchError {
  static override readonly code: string = 'KG_ERR_UNKNOWN_PROVISIONER';
}

/** A start request asked for a container image (KERNEL_IMAGE) the operator has not allowed. */
export class ImageNotAllowedError extends KernelLaunchError {
  static override readonly code: string = 'KG_ERR_IMAGE_NOT_ALLOWED';
  static override readonly status: number | undefined = 403;
}

/** A kernelspec's provisioner config cannot be used (no image, a malformed mount...). */
export class ProvisionerConfigError extends KernelLaunchError {
  static override readonly code: string = 'KG_ERR_PROVISIONER_CONFIG';
}

/** The gateway has no file descriptors left for one more kernel (EMFILE/ENFILE: its sockets,
 *  ports, connection file or process could not be made). Not retried: other kernels must end, or
 *  the open-file limit be raised, first. */
export class OutOfFileDescriptorsError extends KernelLaunchError {
  static override readonly code: string = 'KG_ERR_OUT_OF_FILE_DESCRIPTORS';
  static override readonly status: number | undefined = 503;
}

/** A start that failed in a way fresh ports may fix: worth another try. */
export class RetryableLaunchError extends KernelLaunchError {
  static override readonly code: string = 'KG_ERR_KERNEL_LAUNCH_RETRYABLE';
}

/** The process ended before it answered kernel_info_request (often: a port was taken). */
export class KernelExitedEarlyError extends RetryableLaunchError {
  static override readonly code: string = 'KG_ERR_KERNEL_EXITED_EARLY';
}

/** The kernel answers, but one of its channels cannot be reached (its port was taken). */
export class KernelChannelsUnreachableError extends RetryableLaunchError {
  static override readonly code: string = 'KG_ERR_KERNEL_CHANNELS_UNREACHABLE';
}

// ---- Enterprise Gateway's launch protocol (remote kernels) ------------------------------------

/** A launcher sent no usable connection info within its launch timeout. */
export class LaunchResponseTimeoutError extends KernelLaunchError {
  static override readonly code: string = 'KG_ERR_LAUNCH_RESPONSE_TIMEOUT';
}

/** A launch's wait for its connection info was given up (the kernel was ended, or the listener closed). */
export class LaunchCancelledError extends KernelLaunchError {
  static override readonly code: string = 'KG_ERR_LAUNCH_CANCELLED';
}

/** What arrived on the response port is not a payload of a kernel being launched (logged, dropped). */
export class LaunchPayloadError extends GatewayError {
  static override readonly code: string = 'KG_ERR_LAUNCH_PAYLOAD';
}

/** The response address cannot be listened on, or is not listening yet. */
export class ResponseListenerError extends GatewayError {
  static override readonly code: string = 'KG_ERR_RESPONSE_LISTENER';
}

/** A request to a launcher's comm_port (signal, shutdown) could not be delivered. */
export class CommPortError extends GatewayError {
  static override readonly code: string = 'KG_ERR_COMM_PORT';
}

/** A seed notebook's cell failed in a new kernel. */
export class KernelSeedError extends GatewayError {
  static override readonly code: string = 'KG_ERR_KERNEL_SEED';
}

/** The kernel died (or was ended) while an execution waited for it. */
export class KernelDiedError extends GatewayError {
  static override readonly code: string = 'KG_ERR_KERNEL_DIED';
}

/** The kernel takes no more messages on a channel (its queue is full or stalled). */
export class KernelNotReadingError extends GatewayError {
  static override readonly code: string = 'KG_ERR_KERNEL_NOT_READING';
  static override readonly status: number | undefined = 503;
}

/** The kernel pool is shutting down. */
export class PoolClosedError extends GatewayError {
  static override readonly code: string = 'KG_ERR_POOL_CLOSED';
  static override readonly status: number | undefined = 503;
}

/** A wait for a pooled kernel was given up (its client left). */
export class PoolWaitAbortedError extends GatewayError {
  static override readonly code: string = 'KG_ERR_POOL_WAIT_ABORTED';
}

// ---- sessions -------------------------------------------------------------------------------

/** A session names a kernel id that does not exist. */
export class UnknownKernelError extends GatewayError {
  static override readonly code: string = 'KG_ERR_UNKNOWN_KERNEL';
  static override readonly status: number | undefined = 400;
}

/** The session is gone: never there, or deleted while an update of it waited or ran. */
export class SessionNotFoundError extends GatewayError {
  static override readonly code: string = 'KG_ERR_SESSION_NOT_FOUND';
  static override readonly status: number | undefined = 404;
}

// ---- notebook-http --------------------------------------------------------------------------

/** The ResponseInfo cell printed something that is not a usable response description. */
export class ResponseInfoError extends GatewayError {
  static override readonly code: string = 'KG_ERR_RESPONSE_INFO';
}

export type AbandonReason = 'timeout' | 'client-gone';

/** An endpoint's execution was given up: execution_timeout passed, or the client left. */
export class ExecutionAbandonedError extends GatewayError {
  static override readonly code: string = 'KG_ERR_EXECUTION_ABANDONED';
  static override readonly status: number | undefined = 504;

  constructor(
    readonly reason: AbandonReason,
    /** The execution still running in the kernel. */
    readonly running: Promise<unknown>,
  ) {
    super(reason === 'timeout' ? 'the execution timed out' : 'the client went away');
  }
}
