// The plug-in contract every personality (jupyter-websocket, notebook-http, or a module named
// by --api) fulfils: the TypeScript counterpart of the original's create_personality().
import type { IncomingMessage } from 'node:http';
import type { FastifyInstance } from 'fastify';
import type { WebSocket } from 'ws';
import type { KernelManager } from '../kernels/kernel-manager.js';
import type { KernelSpecManager } from '../kernels/kernelspecs.js';
import type { Logger } from '../kernels/logger.js';
import type { GatewayConfig } from '../config/gateway-config.js';
import type { Notebook } from '../kernels/notebook.js';
import type { OptionSpec } from '../config/option-spec.js';

export interface PersonalityContext {
  config: GatewayConfig;
  kernels: KernelManager;
  specs: KernelSpecManager;
  log: Logger;
  /** The gateway's version, for GET /api. */
  version: string;
  /** The notebook named by seed_uri, if any, already loaded and validated. */
  seedNotebook?: Notebook;
}

export interface WebsocketRoute {
  /** Path below base_url, with `:name` segments, e.g. `/api/kernels/:kernel_id/channels`. */
  path: string;
  /** Runs before the upgrade; throw an HttpError to refuse it (e.g. 404 for an unknown kernel). */
  check(params: Record<string, string>, req: IncomingMessage): void;
  /** Picks one of the subprotocols the client offered, or false for none. */
  selectProtocol?(offered: Set<string>): string | false;
  accept(ws: WebSocket, req: IncomingMessage, params: Record<string, string>): void;
}

export interface Personality {
  /** Starts what the personality needs before serving (kernel pools...). */
  init?(): Promise<void>;
  /** Registers HTTP routes on an instance already prefixed with base_url. */
  routes(app: FastifyInstance): void | Promise<void>;
  websocketRoutes?: WebsocketRoute[];
  /** Called on gateway shutdown, before every kernel is ended. */
  shutdown?(): Promise<void>;
  /** Whether a seed notebook's code cell should run in new kernels (default: all do). */
  shouldSeedCell?(code: string): boolean;
}

export type CreatePersonality = (ctx: PersonalityContext) => Personality | Promise<Personality>;

/**
 * A plug-in personality's own config section, exported by its module as `personalityOptions`:
 * read before the config is, its entries join the option table, so they are set exactly as the
 * built-in personalities' are (`--Section.name`, the KG_* env var, the config file, --help-all,
 * --show-config), checked the same way, and found in `ctx.config[section]`.
 */
export interface PersonalityOptions {
  /** The section's name, e.g. 'HelloPersonality' (not one of the gateway's own). */
  section: string;
  /** Every option's default value, by name. */
  defaults: () => object;
  options: Omit<OptionSpec, 'section'>[];
}
