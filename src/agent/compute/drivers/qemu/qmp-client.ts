// A small QMP (QEMU Machine Protocol) client over a unix socket: greeting, capabilities, commands with ids, events.
import { connect, type Socket } from 'node:net';

/** The version QEMU announces in its greeting. */
export interface QmpGreeting {
  version: { qemu: { major: number; minor: number; micro: number }; package: string };
  capabilities: string[];
}

/** An asynchronous QMP event: `{"event": NAME, "data": {...}, "timestamp": {...}}`. */
export interface QmpEvent {
  event: string;
  data?: Record<string, unknown>;
  timestamp?: { seconds: number; microseconds: number };
}

/** A command QEMU answered with an error; `errorClass` and `desc` are QMP's. */
export class QmpError extends Error {
  readonly errorClass: string;
  readonly desc: string;
  readonly command: string;
  constructor(command: string, errorClass: string, desc: string) {
    super(`QMP ${command} failed: ${errorClass}: ${desc}`);
    this.name = 'QmpError';
    this.errorClass = errorClass;
    this.desc = desc;
    this.command = command;
  }
}

/** The monitor could not be reached, went away, or did not answer in time. */
export class QmpDisconnected extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'QmpDisconnected';
  }
}

export interface QmpConnectOptions {
  /** How long to wait for the socket, the greeting and qmp_capabilities; default 5 s. */
  timeoutMs?: number;
  /** Default timeout of execute(); default 30 s. */
  commandTimeoutMs?: number;
}

type Pending = {
  command: string;
  resolve: (value: unknown) => void;
  reject: (err: Error) => void;
  timer: NodeJS.Timeout;
};
type Listener = (event: QmpEvent) => void;

/**
 * One QMP session. Commands may be issued concurrently: each carries an id and is matched to its answer. The socket
 * is unref'd, so an idle session never keeps the process alive; pending commands do (through their timers).
 */
export class QmpClient {
  readonly greeting: QmpGreeting;
  readonly #socket: Socket;
  readonly #pending = new Map<string, Pending>();
  readonly #listeners = new Set<{ name: string; fn: Listener }>();
  readonly #closeWaiters: (() => void)[] = [];
  readonly #commandTimeoutMs: number;
  #nextId = 1;
  #closed = false;

  private constructor(socket: Socket, greeting: QmpGreeting, commandTimeoutMs: number) {
    this.#socket = socket;
    this.greeting = greeting;
    this.#commandTimeoutMs = commandTimeoutMs;
  }

  /** Connects, reads the greeting and leaves capabilities negotiation mode. */
  static async connect(path: string, opts: QmpConnectOptions = {}): Promise<QmpClient> {
    const timeoutMs = opts.timeoutMs ?? 5000;
    const socket = connect(path);
    let buffer = '';
    let client: QmpClient | undefined;
    const early: string[] = [];
    try {
      const greeting = await new Promise<QmpGreeting>((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new QmpDisconnected(`QMP at ${path} sent no greeting`)),
          timeoutMs,
        );
        const fail = (err: Error) => {
          clearTimeout(timer);
          reject(new QmpDisconnected(`QMP at ${path} unreachable: ${err.message}`));
        };
        socket.once('error', fail);
        socket.once('close', () => fail(new Error('closed')));
        socket.on('data', (chunk: Buffer) => {
          if (client) return;
          buffer += chunk.toString('utf8');
          let nl = buffer.indexOf('\n');
          while (nl >= 0) {
            const line = buffer.slice(0, nl).trim();
            buffer = buffer.slice(nl + 1);
            if (line) early.push(line);
            nl = buffer.indexOf('\n');
          }
          const first = early.shift();
          if (first === undefined) return;
          clearTimeout(timer);
          try {
            const msg = JSON.parse(first) as { QMP?: QmpGreeting };
            if (!msg.QMP) throw new Error(`unexpected greeting ${first.slice(0, 200)}`);
            resolve(msg.QMP);
          } catch (err) {
            reject(new QmpDisconnected(`QMP at ${path}: ${(err as Error).message}`));
          }
        });
      });
      socket.removeAllListeners();
      client = new QmpClient(socket, greeting, opts.commandTimeoutMs ?? 30_000);
      client.#attach(buffer, early);
      await client.execute('qmp_capabilities', undefined, { timeoutMs });
      return client;
    } catch (err) {
      socket.destroy();
      throw err;
    }
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Runs a command; resolves with its `return`, rejects with QmpError (QEMU said no) or QmpDisconnected. */
  execute<T = unknown>(
    command: string,
    args?: Record<string, unknown>,
    opts: { timeoutMs?: number } = {},
  ): Promise<T> {
    if (this.#closed) return Promise.reject(new QmpDisconnected(`QMP closed before ${command}`));
    const id = `m${this.#nextId++}`;
    const msg = args === undefined ? { execute: command, id } : { execute: command, arguments: args, id };
    return new Promise<T>((resolve, reject) => {
      const timeoutMs = opts.timeoutMs ?? this.#commandTimeoutMs;
      const timer = setTimeout(() => {
        this.#pending.delete(id);
        reject(new QmpDisconnected(`QMP ${command} got no answer in ${timeoutMs} ms`));
      }, timeoutMs);
      this.#pending.set(id, { command, resolve: resolve as (v: unknown) => void, reject, timer });
      this.#socket.write(`${JSON.stringify(msg)}\n`);
    });
  }

  /** Calls `fn` for every event named `name` ('*' for all); returns the unsubscribe function. */
  on(name: string, fn: Listener): () => void {
    const entry = { name, fn };
    this.#listeners.add(entry);
    return () => {
      this.#listeners.delete(entry);
    };
  }

  /**
   * Resolves with the first event named `name` for which `match` holds. Subscribes at once: call it before the
   * command that causes the event. Rejects on timeout or when the session closes.
   */
  waitForEvent(name: string, match: (e: QmpEvent) => boolean, timeoutMs: number): Promise<QmpEvent> {
    return new Promise<QmpEvent>((resolve, reject) => {
      let done = false;
      const finish = (fn: () => void) => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        off();
        const i = this.#closeWaiters.indexOf(onClose);
        if (i >= 0) this.#closeWaiters.splice(i, 1);
        fn();
      };
      const timer = setTimeout(
        () => finish(() => reject(new QmpDisconnected(`no ${name} event within ${timeoutMs} ms`))),
        timeoutMs,
      );
      const off = this.on(name, (e) => {
        if (match(e)) finish(() => resolve(e));
      });
      const onClose = () => finish(() => reject(new QmpDisconnected(`QMP closed while waiting for ${name}`)));
      if (this.#closed) onClose();
      else this.#closeWaiters.push(onClose);
    });
  }

  /** Resolves once the session is closed (by us, or because QEMU exited). */
  whenClosed(): Promise<void> {
    if (this.#closed) return Promise.resolve();
    this.#socket.ref(); // someone waits on it: keep the process alive until it closes
    return new Promise((resolve) => this.#closeWaiters.push(resolve));
  }

  /** Ends the session; pending commands reject. */
  async close(): Promise<void> {
    if (this.#closed) return;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        this.#socket.destroy();
        resolve();
      }, 500);
      this.#socket.once('close', () => {
        clearTimeout(timer);
        resolve();
      });
      this.#socket.end();
    });
    this.#shutdown('QMP session closed');
  }

  #attach(rest: string, early: string[]): void {
    let buffer = rest;
    this.#socket.unref();
    for (const line of early) this.#handle(line);
    this.#socket.on('data', (chunk: Buffer) => {
      buffer += chunk.toString('utf8');
      let nl = buffer.indexOf('\n');
      while (nl >= 0) {
        const line = buffer.slice(0, nl).trim();
        buffer = buffer.slice(nl + 1);
        if (line) this.#handle(line);
        nl = buffer.indexOf('\n');
      }
    });
    this.#socket.on('error', () => this.#shutdown('QMP socket error'));
    this.#socket.on('close', () => this.#shutdown('QMP socket closed (QEMU exited?)'));
  }

  #handle(line: string): void {
    let msg: Record<string, unknown>;
    try {
      msg = JSON.parse(line) as Record<string, unknown>;
    } catch {
      return;
    }
    if (typeof msg.event === 'string') {
      const event = msg as unknown as QmpEvent;
      for (const l of [...this.#listeners]) if (l.name === '*' || l.name === event.event) l.fn(event);
      return;
    }
    const id = typeof msg.id === 'string' ? msg.id : undefined;
    const pending = id === undefined ? undefined : this.#pending.get(id);
    if (!pending || id === undefined) return;
    this.#pending.delete(id);
    clearTimeout(pending.timer);
    const error = msg.error as { class?: string; desc?: string } | undefined;
    if (error) pending.reject(new QmpError(pending.command, error.class ?? 'GenericError', error.desc ?? ''));
    else pending.resolve(msg.return);
  }

  #shutdown(reason: string): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#socket.destroy();
    for (const [id, p] of this.#pending) {
      clearTimeout(p.timer);
      this.#pending.delete(id);
      // 'quit' is answered and then the socket closes; a quit whose answer raced the close still succeeded.
      if (p.command === 'quit') p.resolve({});
      else p.reject(new QmpDisconnected(`${reason} during ${p.command}`));
    }
    for (const w of this.#closeWaiters.splice(0)) w();
  }
}
