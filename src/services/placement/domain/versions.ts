// The microversion range Placement serves (placement/microversion.py, Zed: 1.0 to 1.39).
import type { MicroversionSpec } from '../../../platform/http/microversion.ts';

export const MIN_VERSION = '1.0';
export const MAX_VERSION = '1.39';

export const placementMicroversions: MicroversionSpec = {
  serviceType: 'placement',
  min: MIN_VERSION,
  max: MAX_VERSION,
};
