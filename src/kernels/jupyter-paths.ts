// Jupyter's data and runtime directories, in jupyter_core's order and precedence.
import { homedir } from 'node:os';
import { delimiter, join } from 'node:path';

export function userDataDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.JUPYTER_DATA_DIR) return env.JUPYTER_DATA_DIR;
  const xdg = env.XDG_DATA_HOME || join(homedir(), '.local', 'share');
  return join(xdg, 'jupyter');
}

/** Data dirs, most preferred first: JUPYTER_PATH, the user data dir, then the system dirs. */
export function jupyterDataPath(env: NodeJS.ProcessEnv = process.env): string[] {
  const dirs: string[] = [];
  if (env.JUPYTER_PATH) dirs.push(...env.JUPYTER_PATH.split(delimiter).filter(Boolean));
  dirs.push(userDataDir(env));
  dirs.push('/usr/local/share/jupyter', '/usr/share/jupyter');
  return [...new Set(dirs)];
}

export function runtimeDir(env: NodeJS.ProcessEnv = process.env): string {
  return env.JUPYTER_RUNTIME_DIR || join(userDataDir(env), 'runtime');
}

export function configDirs(env: NodeJS.ProcessEnv = process.env): string[] {
  const dirs: string[] = [];
  dirs.push(env.JUPYTER_CONFIG_DIR || join(homedir(), '.jupyter'));
  if (env.JUPYTER_CONFIG_PATH) dirs.push(...env.JUPYTER_CONFIG_PATH.split(delimiter).filter(Boolean));
  dirs.push('/usr/local/etc/jupyter', '/etc/jupyter');
  return [...new Set(dirs)];
}
