// Resolves --api to a personality factory: the two built-in names (and their short forms), or
// a module (a path, or a package name) exporting `createPersonality` (and, if it has options of
// its own, `personalityOptions`).
import { isAbsolute, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { CreatePersonality, PersonalityOptions } from '../personalities/personality.js';
import { PersonalityLoadError } from '../errors.js';

export const JUPYTER_WEBSOCKET = 'kernel_gateway.jupyter_websocket';
export const NOTEBOOK_HTTP = 'kernel_gateway.notebook_http';

const ALIASES: Record<string, string> = {
  'jupyter-websocket': JUPYTER_WEBSOCKET,
  jupyter_websocket: JUPYTER_WEBSOCKET,
  'notebook-http': NOTEBOOK_HTTP,
  notebook_http: NOTEBOOK_HTTP,
};

export function canonicalApi(api: string): string {
  return ALIASES[api] ?? api;
}

export function isBuiltInApi(api: string): boolean {
  const name = canonicalApi(api);
  return name === JUPYTER_WEBSOCKET || name === NOTEBOOK_HTTP;
}

type PersonalityModule = { createPersonality?: unknown; personalityOptions?: unknown; default?: { createPersonality?: unknown; personalityOptions?: unknown } };

async function importApi(api: string): Promise<PersonalityModule> {
  const name = canonicalApi(api);
  if (name === JUPYTER_WEBSOCKET) return import('../personalities/jupyter-websocket/index.js');
  if (name === NOTEBOOK_HTTP) return import(new URL('../personalities/notebook-http/index.js', import.meta.url).href);
  const looksLikePath = name.startsWith('.') || isAbsolute(name) || /\.(m?js|cjs)$/.test(name);
  const specifier = looksLikePath ? pathToFileURL(resolve(name)).href : name;
  try {
    return await import(specifier);
  } catch (err) {
    throw new PersonalityLoadError(`API module ${api} not found (${(err as Error).message})`, { cause: err });
  }
}

/** The config section a plug-in module declares, if any (the built-ins' are in the table already). */
export async function loadPersonalityOptions(api: string): Promise<PersonalityOptions | undefined> {
  if (isBuiltInApi(api)) return undefined;
  const mod = await importApi(api);
  return (mod.personalityOptions ?? mod.default?.personalityOptions) as PersonalityOptions | undefined;
}

export async function loadPersonality(api: string): Promise<CreatePersonality> {
  const mod = await importApi(api);
  const factory = mod.createPersonality ?? mod.default?.createPersonality;
  if (typeof factory !== 'function') throw new PersonalityLoadError(`API module ${api} does not export createPersonality`);
  return factory as CreatePersonality;
}
