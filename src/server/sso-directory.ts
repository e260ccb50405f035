/**
 * The connection directory of this process (identity/connection-directory.ts): loaded before the
 * pages serve and attached to the configuration, so every `connections(deps)` sees it; the change
 * feed (server/change-fanout.ts) has it read again when any process changes an organization's
 * connections or domains, and its own poll is the safety net (the CLI publishes nothing).
 */
import type { Logger } from 'pino';
import type { Config } from '../core/config.ts';
import type { SecretKey } from '../core/crypto.ts';
import { attachDirectory, ConnectionDirectory } from '../identity/connection-directory.ts';
import type { Store } from '../store/store.ts';

export async function startConnectionDirectory(config: Config, store: Store, dataKey: SecretKey, log: Logger): Promise<ConnectionDirectory> {
  const directory = new ConnectionDirectory({ config, store, dataKey, log });
  await directory.start();
  directory.onStop(attachDirectory(config, directory));
  return directory;
}
