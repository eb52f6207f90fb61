// Resolves --api to a personality factory: the two built-in names (and their short forms), or
// a module (a path, or a package name) exporting `createPersonality`.
import { isAbsolute, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { CreatePersonality } from '../personalities/personality.js';
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

export async function loadPersonality(api: string): Promise<CreatePersonality> {
  const name = canonicalApi(api);
  let mod: { createPersonality?: unknown; default?: { createPersonality?: unknown } };
  if (name === JUPYTER_WEBSOCKET) mod = await import('../personalities/jupyter-websocket/index.js');
  else if (name === NOTEBOOK_HTTP) mod = await import(new URL('../personalities/notebook-http/index.js', import.meta.url).href);
  else {
    const looksLikePath = name.startsWith('.') || isAbsolute(name) || /\.(m?js|cjs)$/.test(name);
    const specifier = looksLikePath ? pathToFileURL(resolve(name)).href : name;
    try {
      mod = await import(specifier);
    } catch (err) {
      throw new PersonalityLoadError(`API module ${api} not found (${(err as Error).message})`, { cause: err });
    }
  }
  const factory = mod.createPersonality ?? mod.default?.createPersonality;
  if (typeof factory !== 'function') throw new PersonalityLoadError(`API module ${api} does not export createPersonality`);
  return factory as CreatePersonality;
}
