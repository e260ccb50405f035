/**
 * `portcullis login <mcp-url>`, `portcullis logout [<mcp-url>]`, `portcullis whoami [<mcp-url>]`:
 * the device-login kit for people at a terminal. Same token file as `portcullis connect`, so a
 * sign-in here is used by the bridge and the other way round.
 *
 * Exit codes: 0 done (whoami: signed in); 1 not done (denied, expired, server unreachable,
 * untrusted token file; whoami: not signed in); 2 the command line is wrong.
 */
import { AuthFile } from '../sdk/device-login/auth-file.ts';
import { describeAccount, DeviceLogin, type AccountView } from '../sdk/device-login/session.ts';
import { isDeviceLoginError } from '../sdk/device-login/errors.ts';
import { commandFailed, parseCommand } from './args.ts';
import { loginFromOptions, parseMcpUrl } from './connect.ts';
import type { CommandRun } from './context.ts';
import { timestamp } from './output.ts';

const COMMON_HELP = `  --auth-file PATH    token file (default: PORTCULLIS_AUTH_FILE, else ~/.portcullis/auth.json)
  --json              print JSON`;

const LOGIN_OPTIONS = {
  'client-id': { type: 'string' },
  scope: { type: 'string' },
  'auth-file': { type: 'string' },
  json: { type: 'boolean' },
} as const;

const FILE_OPTIONS = { 'auth-file': { type: 'string' }, json: { type: 'boolean' } } as const;
const LOGOUT_OPTIONS = { ...FILE_OPTIONS, account: { type: 'string' } } as const;

/** A kit error becomes one line on stderr and exit code 1. */
function failure(err: unknown): never {
  if (isDeviceLoginError(err)) throw commandFailed('invalid_request', `${err.message} [${err.code}]`, err);
  throw err;
}

function accountJson(view: AccountView): Record<string, unknown> {
  return {
    server: view.server,
    account: view.account,
    user: view.user,
    ...(view.org ? { org: view.org } : {}),
    ...(view.workspaces ? { workspaces: view.workspaces } : {}),
    expires_at: new Date(view.expiresAt * 1000).toISOString(),
    current: view.current,
  };
}

export const login: CommandRun = async (argv, io) => {
  const parsed = parseCommand(
    {
      name: 'login',
      help: `Usage: portcullis login <mcp-url> [options]

Sign in to the MCP server at <mcp-url> with a code: open the link shown, sign in, confirm the code.
The tokens are kept in the token file for \`portcullis connect\` and renewed automatically.

Options:
  --client-id ID      OAuth client id (default: portcullis-cli)
  --scope SCOPES      scopes to ask for (space-separated; default: the server's defaults)
${COMMON_HELP}
Set PORTCULLIS_NO_BROWSER=1 to never open a browser.`,
      options: LOGIN_OPTIONS,
      positionals: { min: 1, max: 1, names: '<mcp-url>' },
    },
    argv,
    io.stdout,
  );
  if (!parsed) return 0;
  const mcpUrl = parseMcpUrl(parsed.positionals[0]!, 'login');
  // PORTCULLIS_TOKEN is for CI and the bridge; signing in here always means the token file.
  const session = loginFromOptions(mcpUrl, parsed.values, {});
  try {
    const pending = await session.start();
    const url = pending.verificationUriComplete ?? pending.verificationUri;
    // The link and code go to stderr with --json, so stdout stays one JSON document.
    const out = parsed.values.json ? io.stderr : io.stdout;
    out.write(`To sign in, open ${url}\nand confirm the code: ${pending.userCode}\n`);
    if (pending.browserOpened) out.write('(a browser window was opened)\n');
    out.write(`Waiting for approval (the code expires in ${Math.round(pending.expiresIn / 60)} minutes)…\n`);
    let view: AccountView | undefined;
    while (!view) view = await session.complete(pending.expiresIn + 5);
    if (parsed.values.json) io.stdout.write(`${JSON.stringify({ status: 'signed_in', ...accountJson(view) }, null, 2)}\n`);
    else io.stdout.write(`Signed in to ${mcpUrl} as ${describeAccount(view)}.\n`);
    return 0;
  } catch (err) {
    return failure(err);
  }
};

/** The servers to act on: the one named, else every server with a current account in the file. */
function sessionsFor(url: string | undefined, authFile: string | undefined, command: string): DeviceLogin[] {
  const file = new AuthFile(authFile);
  if (url) return [new DeviceLogin({ mcpUrl: parseMcpUrl(url, command), authFile: file })];
  let servers: string[];
  try {
    servers = Object.keys(file.read().current);
  } catch (err) {
    return failure(err);
  }
  return servers.map((server) => new DeviceLogin({ mcpUrl: server, authFile: file }));
}

export const logout: CommandRun = async (argv, io) => {
  const parsed = parseCommand(
    {
      name: 'logout',
      help: `Usage: portcullis logout [<mcp-url>] [options]

Sign out: revoke the tokens at the server and remove them from the token file. Without <mcp-url>,
signs out of the current account of every server in the file.

Options:
  --account ACCOUNT   the account to sign out (its id or e-mail; default: the current one)
${COMMON_HELP}`,
      options: LOGOUT_OPTIONS,
      positionals: { min: 0, max: 1, names: '<mcp-url>' },
    },
    argv,
    io.stdout,
  );
  if (!parsed) return 0;
  const results: Array<Record<string, unknown>> = [];
  try {
    for (const session of sessionsFor(parsed.positionals[0], parsed.values['auth-file'], 'logout')) {
      const { removed, revoked, current } = await session.logout(parsed.values.account);
      if (!removed) continue;
      results.push({ server: session.server, removed: removed.account, revoked, ...(current ? { current: current.account } : {}) });
      if (!parsed.values.json) {
        io.stdout.write(`Signed out ${describeAccount(removed)} from ${session.server}${revoked ? '' : ' (the server did not confirm the revocation; removed locally)'}.\n`);
        if (current) io.stdout.write(`Now using ${describeAccount(current)}.\n`);
      }
    }
  } catch (err) {
    return failure(err);
  }
  if (parsed.values.json) io.stdout.write(`${JSON.stringify(results, null, 2)}\n`);
  else if (!results.length) io.stdout.write('Not signed in.\n');
  return 0;
};

export const whoami: CommandRun = async (argv, io) => {
  const parsed = parseCommand(
    {
      name: 'whoami',
      help: `Usage: portcullis whoami [<mcp-url>] [options]

Who is signed in: user, organization, server and token expiry (for <mcp-url>, or every server in
the token file). Exit code 0 when signed in, 1 when not.

Options:
${COMMON_HELP}`,
      options: FILE_OPTIONS,
      positionals: { min: 0, max: 1, names: '<mcp-url>' },
    },
    argv,
    io.stdout,
  );
  if (!parsed) return 0;
  const accounts: AccountView[] = [];
  try {
    for (const session of sessionsFor(parsed.positionals[0], parsed.values['auth-file'], 'whoami')) {
      const status = await session.status();
      if (status.current) accounts.push(status.current);
    }
  } catch (err) {
    return failure(err);
  }
  if (parsed.values.json) {
    io.stdout.write(`${JSON.stringify(accounts.map(accountJson), null, 2)}\n`);
  } else if (!accounts.length) {
    io.stdout.write(`Not signed in${parsed.positionals[0] ? ` to ${parsed.positionals[0]}` : ''}. Run \`portcullis login <mcp-url>\`.\n`);
  } else {
    for (const view of accounts) {
      io.stdout.write(
        [
          `user:     ${view.user.email ?? view.user.name ?? view.user.sub}`,
          `org:      ${view.org ? `${view.org.name ?? view.org.slug ?? view.org.id}${view.org.role ? ` (${view.org.role})` : ''}` : '-'}`,
          `server:   ${view.server}`,
          `expires:  ${timestamp(view.expiresAt)} (renewed automatically)`,
          '',
        ].join('\n'),
      );
    }
  }
  return accounts.length ? 0 : 1;
};
