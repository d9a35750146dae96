// CLI entry: `npm run conformance -- <area…> [--list FILE] [--all-of PREFIX] [--regex R] [--cloud-dir DIR] [--workers N] [--keep]`.
import { Command, InvalidArgumentError } from 'commander';
import { renderReport } from './conformance/results.ts';
import { runConformance } from './conformance/runner.ts';

function positiveInt(value: string): number {
  const n = Number.parseInt(value, 10);
  if (!Number.isInteger(n) || n < 1 || String(n) !== value.trim()) {
    throw new InvalidArgumentError('expected a positive integer');
  }
  return n;
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

interface CliOptions {
  list: string[];
  allOf: string[];
  regex?: string;
  cloudDir?: string;
  cloud: string;
  workers?: number;
  keep?: boolean;
  validation?: boolean;
  testTimeout: number;
}

const program = new Command()
  .name('conformance')
  .description(
    'Run Tempest conformance tests against Monostack: areas name lists in test/conformance/<area>.txt ' +
      '(identity, compute, image, network, volume, object, orchestration).',
  )
  .argument('[areas...]', 'test lists to run')
  .option('--list <file>', 'a test list file (one Tempest id per line); repeatable', collect, [])
  .option('--all-of <prefix>', 'every test Tempest knows under a dotted prefix; repeatable', collect, [])
  .option('--regex <regex>', 'the tests a stestr regex selects')
  .option('--cloud-dir <dir>', 'data dir of an already running cloud (its clouds.yaml); default: start one')
  .option('--cloud <name>', 'cloud in clouds.yaml to use as admin', 'monostack')
  .option('--workers <n>', 'Tempest workers (default: CPUs, at most 4)', positiveInt)
  .option('--keep', 'keep the workspace even when everything passed')
  .option('--validation', 'let tests SSH into guests ([validation] run_validation)')
  .option('--test-timeout <seconds>', "Tempest's per-test timeout", positiveInt, 600)
  .action(async (areas: string[], o: CliOptions) => {
    if (!areas.length && !o.list.length && !o.allOf.length && !o.regex) {
      program.error('name an area, --list FILE, --all-of PREFIX or --regex REGEX');
    }
    const result = await runConformance({
      areas,
      listFiles: o.list,
      allOf: o.allOf,
      ...(o.regex ? { regex: o.regex } : {}),
      ...(o.cloudDir ? { cloudDir: o.cloudDir } : {}),
      cloudName: o.cloud,
      ...(o.workers ? { workers: o.workers } : {}),
      keep: Boolean(o.keep),
      validation: Boolean(o.validation),
      testTimeoutSeconds: o.testTimeout,
      log: (line) => process.stderr.write(`conformance: ${line}\n`),
    });
    const report = renderReport(result.results).split('\n');
    const closing = report.pop()!;
    process.stdout.write(report.join('\n') + '\n');
    if (result.error) process.stdout.write(`\nerror: ${result.error}\n`);
    process.stdout.write(
      result.kept
        ? `\nresults: ${result.resultsFile} (workspace kept: ${result.workspace})\n`
        : `\nall passed; workspace removed (pass --keep to keep it)\n`,
    );
    process.stdout.write(`${closing}\n`);
    process.exitCode = result.ok ? 0 : 1;
  });

// Exit through process.exit so the runner's exit hook stops the cloud it started.
for (const [signal, code] of [
  ['SIGINT', 130],
  ['SIGTERM', 143],
] as const) {
  process.once(signal, () => {
    process.stderr.write(`conformance: ${signal}, stopping\n`);
    process.exit(code);
  });
}

await program.parseAsync(process.argv);
