// npm run bench -- <area>: runs a benchmark area and prints its figures.
import { bootBench } from './boot.ts';
import { computeBench } from './compute.ts';
import { identityBench } from './identity.ts';
import { imageBench } from './image.ts';
import { networkBench } from './network.ts';

const areas: Record<string, () => Promise<void>> = {
  identity: identityBench,
  image: imageBench,
  compute: computeBench,
  boot: bootBench,
  network: networkBench,
};
const area = process.argv[2] ?? 'identity';
const fn = areas[area];
if (!fn) {
  process.stderr.write(`unknown benchmark area "${area}"; known: ${Object.keys(areas).join(', ')}\n`);
  process.exit(2);
}
await fn();
