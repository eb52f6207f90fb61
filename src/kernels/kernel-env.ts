// The environment a new kernel gets, by the original gateway's rules:
// - no `env` in the request: the gateway's whole environment is inherited;
// - an `env` in the request: only PATH, the env_process_whitelist variables, and the
//   request's KERNEL_* and env_whitelist variables;
// then the kernelspec's own env; always KERNEL_GATEWAY=1 and JPY_PARENT_PID (the gateway's pid,
// as jupyter_client's launcher sets it: ipykernel exits when that process dies, and enables
// Ctrl-C), never KG_AUTH_TOKEN.

export interface KernelEnvPolicy {
  /** Gateway variables a kernel may inherit when the request names an env. */
  processWhitelist: string[];
  /** Request variables (besides KERNEL_*) that may reach the kernel. */
  requestWhitelist: string[];
}

/** The request's variables a kernel gets: KERNEL_* and the personality's whitelist. */
export function keptRequestVariables(requestEnv: Record<string, string> | undefined, requestWhitelist: string[]): string[] {
  return Object.keys(requestEnv ?? {}).filter((name) => name.startsWith('KERNEL_') || requestWhitelist.includes(name));
}

export function kernelEnvironment(
  gatewayEnv: NodeJS.ProcessEnv,
  requestEnv: Record<string, string> | undefined,
  specEnv: Record<string, string>,
  policy: KernelEnvPolicy,
  /** null: the kernel must outlive the gateway (availability_mode), so it names no parent. */
  parentPid: number | null = process.pid,
): Record<string, string> {
  const env: Record<string, string> = {};
  const inherit = (name: string): void => {
    const value = gatewayEnv[name];
    if (value !== undefined) env[name] = value;
  };
  if (requestEnv === undefined) {
    for (const name of Object.keys(gatewayEnv)) inherit(name);
  } else {
    env.PATH = gatewayEnv.PATH ?? '';
    for (const name of policy.processWhitelist) inherit(name);
    for (const name of keptRequestVariables(requestEnv, policy.requestWhitelist)) env[name] = String(requestEnv[name]);
  }
  Object.assign(env, specEnv);
  delete env.KG_AUTH_TOKEN;
  env.KERNEL_GATEWAY = '1';
  if (parentPid === null) delete env.JPY_PARENT_PID;
  else env.JPY_PARENT_PID = String(parentPid);
  return env;
}
