// The image service's in-process import jobs (glance-direct imports running in the background, and the
// tasks shown for each image). In memory only: recoverImages() resumes interrupted imports from the rows.
export interface ImageTask {
  id: string;
  type: 'api_image_import';
  status: 'pending' | 'processing' | 'success' | 'failure';
  owner: string | null;
  expires_at: string | null;
  created_at: string;
  updated_at: string;
  deleted_at: string | null;
  deleted: boolean;
  image_id: string;
  request_id: string | null;
  user_id: string | null;
  input: Record<string, unknown>;
  result: Record<string, unknown> | null;
  message: string;
}

export interface RunningImport {
  abort: AbortController;
  done: Promise<void>;
}

/** Import jobs of this process: in memory, resumed from the image rows by recoverImages() on start. */
export class ImportJobs {
  readonly tasks = new Map<string, ImageTask[]>();
  readonly running = new Map<string, RunningImport>();
  stopping = false;
}
