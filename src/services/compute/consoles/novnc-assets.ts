// noVNC's own modules (core/ and vendor/ of the installed @novnc/novnc package), found by module resolution.
import { stat } from 'node:fs/promises';
import { join, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const CONTENT_TYPES: Readonly<Record<string, string>> = {
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.json': 'application/json',
};

let root: string | null | undefined;

/** The package's directory, or null when @novnc/novnc is not installed. */
export function novncRoot(): string | null {
  if (root === undefined) {
    try {
      // The package exports core/rfb.js; its parent's parent is the package root.
      root = fileURLToPath(new URL('..', import.meta.resolve('@novnc/novnc')));
      root = root.replace(/[\\/]+$/, '');
    } catch {
      root = null;
    }
  }
  return root;
}

export interface Asset {
  file: string;
  contentType: string;
  size: number;
}

/** A file under core/ or vendor/ of noVNC by its path relative to the package, or undefined. */
export async function novncAsset(relative: string): Promise<Asset | undefined> {
  const base = novncRoot();
  if (!base) return undefined;
  if (!/^(core|vendor)\/[A-Za-z0-9._/-]+$/.test(relative)) return undefined;
  if (relative.split('/').some((part) => part === '' || part === '.' || part === '..')) return undefined;
  const ext = relative.slice(relative.lastIndexOf('.'));
  const contentType = CONTENT_TYPES[ext];
  if (!contentType) return undefined;
  const file = join(base, ...relative.split('/'));
  if (!file.startsWith(base + sep)) return undefined;
  try {
    const st = await stat(file);
    return st.isFile() ? { file, contentType, size: st.size } : undefined;
  } catch {
    return undefined;
  }
}
