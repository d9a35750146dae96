// Moves SQLite's WAL checkpoints off the event loop: a worker thread with its own connection checkpoints (PASSIVE:
// never blocking the writer) every few hundred milliseconds, so a request never pays for copying the WAL back
// into the database file. The writer's own automatic checkpoint stays as a far-off safety net.
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';

/** Pages the WAL may hold before the writer checkpoints itself (the worker normally keeps it far below). */
export const WRITER_AUTOCHECKPOINT_PAGES = 20_000;

const WORKER = `
const { workerData, parentPort } = require('node:worker_threads');
const Database = require(workerData.modulePath);
const db = new Database(workerData.file);
db.pragma('busy_timeout = 1000');
const checkpoint = (mode) => {
  try {
    db.pragma('wal_checkpoint(' + mode + ')');
  } catch {
    // busy or closing: the next round retries
  }
};
const timer = setInterval(() => checkpoint('PASSIVE'), workerData.everyMs);
parentPort.on('message', (m) => {
  if (m !== 'stop') return;
  clearInterval(timer);
  checkpoint('PASSIVE');
  db.close();
  parentPort.close();
});
`;

export interface WalCheckpointer {
  stop(): Promise<void>;
}

/** Starts checkpointing `file` (a WAL-mode SQLite database) from a worker thread every `everyMs`. */
export function startWalCheckpointer(file: string, everyMs = 250): WalCheckpointer {
  const modulePath = createRequire(import.meta.url).resolve('better-sqlite3');
  const worker = new Worker(WORKER, { eval: true, workerData: { file, everyMs, modulePath } });
  worker.unref();
  // A failing checkpointer only leaves checkpoints to the writer again.
  worker.on('error', () => {});
  let stopped: Promise<void> | undefined;
  return {
    stop() {
      stopped ??= new Promise<void>((resolve) => {
        const timer = setTimeout(() => void worker.terminate().then(() => resolve()), 2000);
        worker.once('exit', () => {
          clearTimeout(timer);
          resolve();
        });
        worker.postMessage('stop');
      });
      return stopped;
    },
  };
}
