// @jupyterlab/services (the client JupyterLab uses) pointed at a gateway, in Node: the ws
// package stands in for the browser's WebSocket. `format: 'json'` hides the v1 subprotocol
// offer so the JSON text format is exercised; 'v1' lets the client offer it as JupyterLab does.
import { createRequire } from 'node:module';
import WebSocket from 'ws';
import type * as Services from '@jupyterlab/services';

const require = createRequire(import.meta.url);
export const services = require('@jupyterlab/services') as typeof Services;

class JsonOnlyWebSocket extends WebSocket {
  constructor(url: string, _protocols?: string | string[]) {
    super(url);
  }
}

export function serverSettings(baseUrl: string, format: 'json' | 'v1', token = ''): Services.ServerConnection.ISettings {
  return services.ServerConnection.makeSettings({
    baseUrl,
    wsUrl: baseUrl.replace(/^http/, 'ws'),
    token,
    appendToken: true,
    WebSocket: (format === 'json' ? JsonOnlyWebSocket : WebSocket) as unknown as typeof globalThis.WebSocket,
    fetch,
    Request,
    Headers,
  });
}
