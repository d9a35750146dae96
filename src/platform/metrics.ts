// Prometheus metrics for the process, served at /metrics; one registry per process, made at the composition root.
import { Counter, collectDefaultMetrics, Histogram, Registry } from 'prom-client';

export class Metrics {
  readonly registry = new Registry();
  readonly #requests: Counter<'service' | 'method' | 'route' | 'status'>;
  readonly #duration: Histogram<'service' | 'method'>;

  constructor() {
    collectDefaultMetrics({ register: this.registry, prefix: 'monostack_' });
    this.#requests = new Counter({
      name: 'monostack_http_requests_total',
      help: 'HTTP requests by service, method, route and status',
      labelNames: ['service', 'method', 'route', 'status'],
      registers: [this.registry],
    });
    this.#duration = new Histogram({
      name: 'monostack_http_request_duration_seconds',
      help: 'HTTP request latency by service and method',
      labelNames: ['service', 'method'],
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers: [this.registry],
    });
  }

  observeRequest(service: string, method: string, route: string, status: number, seconds: number): void {
    this.#requests.inc({ service, method, route, status: String(status) });
    this.#duration.observe({ service, method }, seconds);
  }

  /** A gauge or counter a service registers for itself. */
  counter(name: string, help: string, labelNames: string[] = []): Counter<string> {
    return new Counter({ name, help, labelNames, registers: [this.registry] });
  }
}
