// `monostack up`: starts the all-in-one cloud in the foreground and prints what a person needs to use it.

import { createWriteStream } from 'node:fs';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import v8 from 'node:v8';
import { createCloud, VERSION } from '../compose/cloud.ts';
import { cloudEntries, mergeCloudsYaml } from '../compose/clouds-yaml.ts';
import { loadSecrets } from '../compose/secrets.ts';
import { ensureTestImage, TEST_IMAGE_NAME } from '../compose/test-image.ts';
import type { DeepPartial, MonostackConfig } from '../platform/config.ts';
import { loadConfig } from '../platform/config.ts';
import { createLogger } from '../platform/log.ts';
import { type RunState, STATE_FILE } from './manage.ts';

export interface UpFlags {
  dataDir?: string;
  config?: string;
  port?: string;
  host?: string;
  publicUrl?: string;
  logLevel?: string;
  userClouds?: boolean;
}

export async function runUp(flags: UpFlags): Promise<void> {
  const over: DeepPartial<MonostackConfig> = {};
  if (flags.dataDir) over.data_dir = flags.dataDir;
  if (flags.port) over.port = Number(flags.port);
  if (flags.host) over.host = flags.host;
  if (flags.publicUrl) over.public_url = flags.publicUrl;
  if (flags.logLevel) over.log = { level: flags.logLevel };
  const config = loadConfig({ file: flags.config, flags: over });
  if (config.heap_growing_percent > 0)
    v8.setFlagsFromString(`--heap-growing-percent=${Math.round(config.heap_growing_percent)}`);
  await mkdir(config.data_dir, { recursive: true, mode: 0o700 });
  const logFile = config.log.file || join(config.data_dir, 'monostack.log');
  const log = createLogger({
    level: config.log.level,
    destination: createWriteStream(logFile, { flags: 'a' }),
  });
  const passwords = await loadSecrets(config.data_dir, {
    admin: config.bootstrap.admin_password,
    demo: config.bootstrap.demo_password,
  });

  const cloud = await createCloud({ config, log, passwords, metadataSecret: passwords.metadata_proxy });
  const address = await cloud.listen();
  const state: RunState = {
    pid: process.pid,
    url: config.public_url,
    version: VERSION,
    started_at: new Date().toISOString(),
    database: cloud.database.description,
  };
  await writeFile(join(config.data_dir, STATE_FILE), `${JSON.stringify(state, null, 2)}\n`);

  const entries = cloudEntries({
    publicUrl: config.public_url,
    region: config.region,
    adminPassword: passwords.admin,
    demoPassword: passwords.demo,
  });
  const dataClouds = join(config.data_dir, 'clouds.yaml');
  await mergeCloudsYaml(dataClouds, entries);
  const userClouds = join(homedir(), '.config', 'openstack', 'clouds.yaml');
  const mergeUser = flags.userClouds !== false && config.merge_user_clouds;
  if (mergeUser) await mergeCloudsYaml(userClouds, entries);

  const testImage = config.compute.test_image && config.compute.driver === 'qemu';
  const lines = [
    `Monostack ${VERSION} is up${cloud.bootstrap.created ? ' (first start: bootstrapped)' : ''}.`,
    '',
    `  Identity (Keystone v3):  ${config.public_url}/v3     (listening on ${address})`,
    `  Data directory:          ${config.data_dir}`,
    `  Database:                ${cloud.database.description}`,
    `  Log:                     ${logFile}`,
    `  clouds.yaml:             ${dataClouds}${mergeUser ? `, merged into ${userClouds}` : ''}`,
    '',
    `  Admin:  user admin, password ${passwords.admin}, project admin   (cloud "monostack")`,
    `  Demo:   user demo,  password ${passwords.demo}, project demo    (cloud "monostack-demo")`,
    '',
    `  Compute: ${config.compute.driver === 'qemu' ? `QEMU guests (${config.compute.qemu.accel} accelerator)` : `the ${config.compute.driver} driver`}${testImage ? `; test image "${TEST_IMAGE_NAME}" is being registered in the background` : ''}`,
    '',
    '  Try:    openstack --os-cloud monostack token issue',
    '          openstack --os-cloud monostack catalog list',
    ...(testImage
      ? [
          `          openstack --os-cloud monostack server create --flavor m1.nano --image ${TEST_IMAGE_NAME} --nic none --os-compute-api-version 2.37 --wait vm1`,
        ]
      : []),
    '',
    'Stop with Ctrl-C or SIGTERM.',
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
  if (testImage) {
    // In the background: the first build fetches Debian packages (seconds); the API serves meanwhile.
    ensureTestImage(cloud, log).catch((err: unknown) => {
      log.warn({ err }, 'test guest image not registered');
      process.stderr.write(
        `warning: the test guest image could not be registered: ${(err as Error).message}\n`,
      );
    });
  }

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'shutting down');
    try {
      await cloud.close();
      await rm(join(config.data_dir, STATE_FILE), { force: true });
      process.stdout.write('Monostack stopped.\n');
      process.exit(0);
    } catch (err) {
      process.stderr.write(`shutdown failed: ${(err as Error).message}\n`);
      process.exit(1);
    }
  };
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));
}
