// Entry point of the monostack command: parses flags, loads config and hands off to the subcommands.
import { Command, Option } from 'commander';
import { VERSION } from '../compose/cloud.ts';
import { runBuildTestImage } from './image.ts';
import { runDbMigrate, runRotateKeys, runStatus } from './manage.ts';
import { runNetworkTeardown } from './network.ts';
import { runUp } from './up.ts';

export interface CommonFlags {
  dataDir?: string;
  config?: string;
}

const program = new Command('monostack')
  .description(
    'Monostack: the OpenStack IaaS cloud in one process (identity, image, placement, compute with QEMU guests).',
  )
  .version(VERSION)
  .showHelpAfterError();

const dataDir = () => new Option('--data-dir <dir>', 'data directory (env MONOSTACK_DATA_DIR)');
const configFile = () =>
  new Option('--config <file>', 'configuration file, YAML or JSON (env MONOSTACK_CONFIG)');

program
  .command('up')
  .description('start the all-in-one cloud in the foreground (SIGTERM or Ctrl-C stops it cleanly)')
  .addOption(dataDir())
  .addOption(configFile())
  .option('--port <port>', 'listening port (env MONOSTACK_PORT; default 5000)')
  .option('--host <address>', 'listening address (env MONOSTACK_HOST; default 127.0.0.1)')
  .option('--public-url <url>', 'base URL published in the catalog (env MONOSTACK_PUBLIC_URL)')
  .option('--log-level <level>', 'log level: fatal, error, warn, info, debug, trace')
  .option('--no-user-clouds', 'do not merge the clouds into ~/.config/openstack/clouds.yaml')
  .action(async (opts) => {
    await runUp(opts);
  });

program
  .command('status')
  .description('show whether the cloud of a data directory is running, its URL, version and database')
  .addOption(dataDir())
  .addOption(configFile())
  .option('--json', 'print JSON')
  .action(async (opts) => {
    process.exitCode = await runStatus(opts);
  });

const db = program.command('db').description('database maintenance');
db.command('migrate')
  .description('apply pending database migrations of every service')
  .addOption(dataDir())
  .addOption(configFile())
  .action(async (opts) => {
    await runDbMigrate(opts);
  });

const identity = program.command('identity').description('identity (Keystone) maintenance');
identity
  .command('rotate-keys')
  .description('rotate the Fernet token keys (staged key becomes primary); a running cloud follows at once')
  .addOption(dataDir())
  .addOption(configFile())
  .action(async (opts) => {
    await runRotateKeys(opts);
  });

const network = program.command('network').description('the host network data plane');
network
  .command('teardown')
  .description(
    'remove the namespaces, uplinks, dnsmasq and haproxy a stopped cloud left on this host (they outlive it by design)',
  )
  .addOption(dataDir())
  .addOption(configFile())
  .action(async (opts) => {
    process.exitCode = await runNetworkTeardown(opts);
  });

const image = program.command('image').description('guest images');
image
  .command('build-test')
  .description(
    'build the test guest image (a CirrOS-like kernel, initramfs and disk from Debian packages; cached in the data directory)',
  )
  .addOption(dataDir())
  .addOption(configFile())
  .option('--register', 'register it in the running cloud of the data directory (public, AMI-style)')
  .option('--name <name>', `image name when registering (default ${'monostack-test'})`)
  .action(async (opts) => {
    await runBuildTestImage(opts);
  });

try {
  await program.parseAsync(process.argv);
} catch (err) {
  process.stderr.write(`monostack: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exitCode = 1;
}
