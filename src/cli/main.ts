/** The `portcullis` command. */
import { start } from './start.ts';

const [command] = process.argv.slice(2);
switch (command) {
  case 'start':
  case undefined:
    await start();
    break;
  default:
    process.stderr.write(`unknown command: ${command}\n`);
    process.exit(2);
}
