import { parseJsonBody } from './json.ts';
import type { HttpResponse } from './types.ts';

export class BufferedResponse implements HttpResponse {
  constructor(
    readonly status: number,
    readonly headers: Record<string, string | string[] | undefined>,
    readonly url: string,
    readonly body: Buffer,
    readonly remoteAddress: string,
    readonly certValidTo: Date | undefined,
    readonly latencyMs: number,
  ) {}

  text(): string {
    return this.body.toString('utf8');
  }

  json(maxDepth?: number): unknown {
    return parseJsonBody(this.body, this.url, maxDepth);
  }
}
