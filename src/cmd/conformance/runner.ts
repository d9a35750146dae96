// Runs a conformance list through Tempest against a Monostack cloud and judges every listed test.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { availableParallelism, tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { StartedCloud } from './cloud.ts';
import { startCloud } from './cloud.ts';
import { discoverCloud, readCloud } from './discovery.ts';
import type { Summary, TestResult } from './results.ts';
import { judge, summarize } from './results.ts';
import type { SubunitPacket } from './subunit.ts';
import { isFinal, OutcomeCollector } from './subunit.ts';
import type { TempestContext } from './tempest.ts';
import {
  TEMPEST_BIN,
  tempestCommand,
  tempestEnv,
  tempestInit,
  tempestListTests,
  tempestRun,
} from './tempest.ts';
import { renderTempestConf } from './tempest-conf.ts';
import type { ListEntry, Resolution } from './test-list.ts';
import { entriesFromIds, parseTestList, resolveList, selectByPrefix } from './test-list.ts';

/** The repository root (this file is src/cmd/conformance/runner.ts). */
export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

export interface ConformanceOptions {
  /** Area names: each reads test/conformance/<area>.txt. */
  areas?: readonly string[];
  /** Further list files. */
  listFiles?: readonly string[];
  /** Run everything Tempest knows under these dotted prefixes (`tempest.api.identity`). */
  allOf?: readonly string[];
  /** Run what this stestr regex selects. */
  regex?: string;
  /** Data dir of a cloud already running (holds clouds.yaml); none means start one. */
  cloudDir?: string;
  /** Cloud in clouds.yaml to run as admin. */
  cloudName?: string;
  workers?: number;
  /** Keep the workspace even when everything passed. */
  keep?: boolean;
  /** Let tests SSH into guests ([validation] run_validation). */
  validation?: boolean;
  /** Tempest's per-test timeout, seconds. */
  testTimeoutSeconds?: number;
  cloudStartTimeoutMs?: number;
  repoRoot?: string;
  tempestBin?: string;
  /** Progress lines (the CLI sends them to stderr). */
  log?: (line: string) => void;
}

export interface ConformanceResult {
  /** Temporary directory with tempest/ (the Tempest workspace), cloud logs, results.json and results.subunit. */
  workspace: string;
  kept: boolean;
  resultsFile: string;
  results: TestResult[];
  summary: Summary;
  /** Why the tests could not run at all (no cloud, no Tempest…), if so. */
  error?: string;
  ok: boolean;
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** Makes sure Debian's Tempest is there, installing the project's system packages if not. */
export function ensureTempest(repoRoot: string, tempestBin: string, log: (line: string) => void): void {
  if (existsSync(tempestBin)) return;
  log(`${tempestBin} is missing: running scripts/install-system-packages.sh`);
  const r = spawnSync('bash', [path.join(repoRoot, 'scripts', 'install-system-packages.sh')], {
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  if (r.status !== 0 || !existsSync(tempestBin)) {
    throw new Error(
      `Tempest is not installed (${tempestBin}); run scripts/install-system-packages.sh as root`,
    );
  }
}

/** Reads the area lists and list files named by the options (no Tempest needed). */
async function readLists(opts: ConformanceOptions, repoRoot: string): Promise<ListEntry[]> {
  const files = [
    ...(opts.areas ?? []).map((area) => path.join(repoRoot, 'test', 'conformance', `${area}.txt`)),
    ...(opts.listFiles ?? []),
  ];
  const listed: ListEntry[] = [];
  for (const file of files) {
    if (!existsSync(file)) throw new Error(`no test list ${file}`);
    listed.push(...parseTestList(await readFile(file, 'utf8')));
  }
  return listed;
}

/** The listed entries plus `--all-of` and `--regex` selections, resolved against Tempest's own listing. */
async function selectTests(
  ctx: TempestContext,
  opts: ConformanceOptions,
  listed: ListEntry[],
): Promise<Resolution[]> {
  const resolutions: Resolution[] = [];
  if (listed.length || opts.allOf?.length) {
    const known = await tempestListTests(ctx);
    resolutions.push(...resolveList(listed, known));
    for (const prefix of opts.allOf ?? []) {
      const ids = selectByPrefix(known, prefix);
      if (!ids.length) throw new Error(`tempest knows no test under ${prefix}`);
      resolutions.push(...resolveList(entriesFromIds(ids), known));
    }
  }
  if (opts.regex) {
    const ids = await tempestListTests(ctx, opts.regex);
    if (!ids.length) throw new Error(`tempest knows no test matching ${opts.regex}`);
    resolutions.push(...resolveList(entriesFromIds(ids), ids));
  }
  const seen = new Set<string>();
  return resolutions.filter((r) => {
    const key = r.tempestId ?? r.entry.raw;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/**
 * The whole run: workspace, test selection (reported in full even when the cloud fails),
 * cloud start, discovery, tempest.conf, `tempest run`, verdicts, results.json.
 */
export async function runConformance(opts: ConformanceOptions): Promise<ConformanceResult> {
  const log = opts.log ?? (() => {});
  const repoRoot = opts.repoRoot ?? REPO_ROOT;
  const tempestBin = opts.tempestBin ?? TEMPEST_BIN;
  const workers = opts.workers ?? Math.min(4, availableParallelism());
  const workspace = await mkdtemp(path.join(tmpdir(), 'monostack-conformance-'));
  const resultsFile = path.join(workspace, 'results.json');
  const tempestDir = path.join(workspace, 'tempest');
  log(`workspace ${workspace}`);

  let resolutions: Resolution[] = [];
  let error: string | undefined;
  let cloud: StartedCloud | undefined;
  const collector = new OutcomeCollector();
  let noResultReason = 'no result from tempest';

  try {
    const listed = await readLists(opts, repoRoot);
    // Until Tempest has resolved them, listed tests stand as themselves, so a run that fails
    // early still reports every one of them.
    resolutions = listed.map((entry) => ({ entry, tempestId: entry.raw, how: 'exact' }));
    ensureTempest(repoRoot, tempestBin, log);
    const command = await tempestCommand(tempestBin);
    const ctx: TempestContext = {
      command,
      dir: tempestDir,
      env: tempestEnv(process.env, tempestDir, command[0]!, opts.testTimeoutSeconds ?? 600),
    };
    await tempestInit(ctx, path.join(workspace, 'workspace.yaml'));
    resolutions = await selectTests(ctx, opts, listed);
    if (!resolutions.length) throw new Error('no tests selected: name an area, --list, --all-of or --regex');
    const runnable = resolutions.filter((r) => r.tempestId);
    const moved = resolutions.filter((r) => r.how === 'uuid');
    log(`${resolutions.length} tests selected, ${resolutions.length - runnable.length} unknown to tempest`);
    for (const r of moved) log(`moved: ${r.entry.raw} -> ${r.tempestId}`);

    let cloudsYaml: string;
    if (opts.cloudDir) {
      cloudsYaml = path.join(opts.cloudDir, 'clouds.yaml');
    } else {
      const dataDir = path.join(workspace, 'cloud');
      await mkdir(dataDir, { recursive: true });
      log('starting the cloud');
      cloud = await startCloud({
        repoRoot,
        dataDir,
        logFile: path.join(workspace, 'cloud.log'),
        timeoutMs: opts.cloudStartTimeoutMs ?? 60_000,
      });
      cloudsYaml = cloud.cloudsYaml;
      log(`cloud up on port ${cloud.port} (pid ${cloud.pid})`);
    }

    const discovery = await discoverCloud({
      cloud: await readCloud(cloudsYaml, opts.cloudName ?? 'monostack'),
      workspaceDir: tempestDir,
      runValidation: opts.validation ?? false,
    });
    log(
      `catalog: ${discovery.services.map((s) => (s.maxMicroversion ? `${s.type} ${s.minMicroversion}-${s.maxMicroversion}` : s.type)).join(', ')}`,
    );
    await writeFile(path.join(tempestDir, 'etc', 'tempest.conf'), renderTempestConf(discovery));
    await writeFile(
      path.join(workspace, 'discovery.json'),
      JSON.stringify({ ...discovery, admin: { ...discovery.admin, password: '***' } }, null, 2),
    );

    const loadList = path.join(workspace, 'load-list.txt');
    await writeFile(loadList, runnable.map((r) => r.tempestId).join('\n') + '\n');
    const wanted = new Set(runnable.map((r) => r.tempestId!));
    let done = 0;
    log(`running ${runnable.length} tests with ${workers} workers`);
    const run = await tempestRun(
      ctx,
      {
        loadList,
        concurrency: workers,
        subunitFile: path.join(workspace, 'results.subunit'),
        stderrFile: path.join(workspace, 'tempest-stderr.log'),
      },
      (packet: SubunitPacket) => {
        const outcome = collector.add(packet);
        if (!outcome || !packet.status || !isFinal(packet.status)) return;
        if (wanted.has(outcome.id)) log(`[${++done}/${runnable.length}] ${packet.status} ${outcome.id}`);
        else if (packet.status !== 'success') log(`${packet.status} ${outcome.id}`);
      },
    );
    if (run.decodeErrors.length) log(`subunit: ${run.decodeErrors.join('; ')}`);
    if (run.stderrTail && collector.outcomes.size === 0) {
      noResultReason = `no result from tempest (exit ${run.code}): ${run.stderrTail.split('\n').pop()}`;
    }
  } catch (err) {
    error = errorText(err);
    noResultReason = `not run: ${error.split('\n')[0]}`;
    log(`error: ${error}`);
  } finally {
    if (cloud) {
      await cloud.stop();
      log('cloud stopped');
    }
  }

  const results = judge(resolutions, collector.outcomes, noResultReason);
  const summary = summarize(results);
  const ok = !error && summary.failed === 0 && results.length > 0;
  const kept = Boolean(opts.keep) || !ok;
  await writeFile(resultsFile, JSON.stringify({ summary, error, workspace, kept, results }, null, 2) + '\n');
  if (!kept) await rm(workspace, { recursive: true, force: true });
  const result: ConformanceResult = { workspace, kept, resultsFile, results, summary, ok };
  if (error) result.error = error;
  return result;
}
