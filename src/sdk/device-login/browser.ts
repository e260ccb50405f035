/**
 * Open the verification page in the user's browser when we can. Never required: the URL and
 * code are always shown too, and `PORTCULLIS_NO_BROWSER=1` (or no desktop) turns this off.
 * The URL is passed as one argument, never through a shell.
 */
import { spawn } from 'node:child_process';

export function browserDisabled(env: NodeJS.ProcessEnv = process.env): boolean {
  const value = env.PORTCULLIS_NO_BROWSER;
  if (value && value !== '0' && value !== 'false') return true;
  // A Linux session without a display (ssh, CI, a container) has no browser to open.
  return process.platform === 'linux' && !env.DISPLAY && !env.WAYLAND_DISPLAY;
}

/** Resolves true when a browser launcher was started (not a promise the page opened). */
export function openBrowser(url: string, env: NodeJS.ProcessEnv = process.env): Promise<boolean> {
  if (browserDisabled(env) || !/^https?:\/\//.test(url)) return Promise.resolve(false);
  const [command, args] =
    process.platform === 'darwin' ? ['open', [url]] : process.platform === 'win32' ? ['rundll32', ['url.dll,FileProtocolHandler', url]] : ['xdg-open', [url]];
  return new Promise((resolve) => {
    try {
      const child = spawn(command, args, { stdio: 'ignore', detached: true });
      child.once('error', () => resolve(false));
      child.once('spawn', () => {
        child.unref();
        resolve(true);
      });
    } catch {
      resolve(false);
    }
  });
}
