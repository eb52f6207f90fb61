// The package's public entry point (`import ... from 'kernel-gateway'`): the plug-in contract a
// personality module implements, what it is handed, and a way to embed the gateway.
export type { CreatePersonality, Personality, PersonalityContext, WebsocketRoute } from './personalities/personality.js';
export type { GatewayConfig, JupyterWebsocketPersonalityConfig, KernelGatewayAppConfig, NotebookHTTPPersonalityConfig } from './server/gateway-config.js';
export type { KernelManager, StartRequest } from './kernels/kernel-manager.js';
export type { KernelModel, RunningKernel } from './kernels/running-kernel.js';
export type { KernelSpecManager } from './kernels/kernelspecs.js';
export type { Logger } from './kernels/logger.js';
export type { Notebook } from './personalities/notebook.js';
export { executeCode, type ExecutionError, type ExecutionOutcome } from './kernels/execute.js';
export * from './errors.js';
export { defaultConfig } from './server/gateway-config.js';
export { startGateway, VERSION, type Gateway } from './server/gateway.js';
