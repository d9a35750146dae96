// `monostack image build-test`: builds the project's test guest image from Debian packages and, with --register,
// registers it in the running cloud of the data directory (as `monostack up` does on start).
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parse } from 'yaml';
import { ImageClient } from '../clients/image.ts';
import { TEST_IMAGE_NAME } from '../compose/test-image.ts';
import { buildTestImage, testImageLocation } from '../guest-image/build.ts';
import { registerTestImage } from '../guest-image/register.ts';
import { httpTransport } from '../platform/transport.ts';
import { configFrom, type ManageFlags, type RunState, STATE_FILE } from './manage.ts';

export interface BuildTestFlags extends ManageFlags {
  register?: boolean;
  name?: string;
}

interface CloudsFile {
  clouds: Record<
    string,
    { auth: { auth_url: string; username: string; password: string; project_name: string } }
  >;
}

/** An admin token for the running cloud, from the data directory's clouds.yaml. */
async function adminToken(dataDir: string, url: string): Promise<string> {
  const clouds = parse(await readFile(join(dataDir, 'clouds.yaml'), 'utf8')) as CloudsFile;
  const auth = clouds.clouds['monostack']?.auth;
  if (!auth) throw new Error(`no "monostack" cloud in ${join(dataDir, 'clouds.yaml')}`);
  const res = await fetch(`${url}/v3/auth/tokens`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      auth: {
        identity: {
          methods: ['password'],
          password: { user: { name: auth.username, domain: { id: 'default' }, password: auth.password } },
        },
        scope: { project: { name: auth.project_name, domain: { id: 'default' } } },
      },
    }),
  });
  const token = res.headers.get('x-subject-token');
  if (res.status !== 201 || !token) throw new Error(`authentication failed: HTTP ${res.status}`);
  return token;
}

export async function runBuildTestImage(flags: BuildTestFlags): Promise<void> {
  const config = configFrom(flags);
  const started = performance.now();
  const built = await buildTestImage({
    ...testImageLocation(config.data_dir),
    log: (line) => process.stdout.write(`  ${line}\n`),
  });
  const secs = ((performance.now() - started) / 1000).toFixed(1);
  process.stdout.write(
    `${built.rebuilt ? 'built' : 'already built'} test image ${built.version} in ${secs} s\n` +
      `  kernel  ${built.kernel}\n  ramdisk ${built.initrd}\n  disk    ${built.disk}\n`,
  );
  if (!flags.register) return;
  let state: RunState;
  try {
    state = JSON.parse(await readFile(join(config.data_dir, STATE_FILE), 'utf8')) as RunState;
  } catch {
    throw new Error(`no running cloud in ${config.data_dir} (start it with monostack up)`);
  }
  const token = await adminToken(config.data_dir, state.url);
  const client = new ImageClient(httpTransport(state.url));
  const ids = await registerTestImage(client, token, built, {
    name: flags.name ?? TEST_IMAGE_NAME,
    visibility: 'public',
  });
  process.stdout.write(
    `registered "${flags.name ?? TEST_IMAGE_NAME}": image ${ids.imageId} (kernel ${ids.kernelId}, ramdisk ${ids.ramdiskId})\n`,
  );
}
