// createImageService: Glance v2 as a Monostack service — routes, tables, policy, the blob store seam.
import { join } from 'node:path';
import type { Clock, IdSource } from '../../platform/clock.ts';
import type { ImageConfig } from '../../platform/config.ts';
import type { Database } from '../../platform/db/database.ts';
import type { ServiceMigrations } from '../../platform/db/migrate.ts';
import { webobDialect } from '../../platform/http/error-dialects.ts';
import type { ServiceHttp } from '../../platform/http/types.ts';
import type { Logger } from '../../platform/log.ts';
import { PolicyEngine } from '../../platform/policy/index.ts';
import type { ChangeFeed } from '../../platform/watch/feed.ts';
import { recoverImages, stopImageData } from './api/image-data.ts';
import { imageRoutes } from './api/routes.ts';
import type { BlobStore } from './blobs/blob-store.ts';
import { FileBlobStore } from './blobs/file-store.ts';
import { ImageContext, type ImageDb } from './context.ts';
import { imagePolicies } from './policy.ts';
import { imageMigrations } from './store/migrations/0001-initial.ts';

export const imageMigrationSet: ServiceMigrations = { service: 'image', migrations: imageMigrations };

export interface ImageServiceDeps {
  database: Database;
  feed: ChangeFeed;
  config: ImageConfig;
  clock: Clock;
  ids: IdSource;
  log: Logger;
  /** Test seams: other stores than files under config.data_dir. */
  blobs?: BlobStore;
  staging?: BlobStore;
}

export interface ImageService {
  http: ServiceHttp;
  context: ImageContext;
  stop(): Promise<void>;
}

export async function createImageService(deps: ImageServiceDeps): Promise<ImageService> {
  const blobs = deps.blobs ?? new FileBlobStore(join(deps.config.data_dir, 'data'));
  const staging = deps.staging ?? new FileBlobStore(join(deps.config.data_dir, 'staging'));
  await blobs.recover();
  await staging.recover();
  const ix = new ImageContext({
    db: deps.database.db as ImageDb,
    feed: deps.feed,
    config: deps.config,
    clock: deps.clock,
    ids: deps.ids,
    log: deps.log,
    blobs,
    staging,
  });
  const http: ServiceHttp = {
    name: 'image',
    prefixes: ['/image'],
    dialect: webobDialect,
    routes: imageRoutes(ix),
    policy: new PolicyEngine(imagePolicies, deps.config.policy_overrides),
  };
  // Uploads cut off by a crash go back to queued, interrupted imports resume (see recoverImages).
  const recovered = await recoverImages(ix);
  deps.log.info({ recovered }, 'image recovery done');
  return {
    http,
    context: ix,
    async stop() {
      await stopImageData(ix);
    },
  };
}
