import type { Logger } from '../log/index.ts';
import type { FederationClient, MediaRef } from '../matrix/index.ts';
import { type HttpClient, Semaphore } from '../net/index.ts';
import { MediaError, type MediaFailure } from './errors.ts';
import { AVATAR_CONTENT_TYPE, AVATAR_VARIANTS, type AvatarVariant, renderAvatar } from './image.ts';
import { fetchThumbnail } from './remote.ts';
import type { AvatarStore, StoredAvatar } from './store.ts';

const NOT_SHOWN = 'no room Atlas shows has this avatar, or its server is blocked';

export type AvatarAnswer =
  | { ok: true; avatar: StoredAvatar; contentType: typeof AVATAR_CONTENT_TYPE }
  | { ok: false; reason: MediaFailure; message: string };

/** How long a failure is remembered before the origin is asked again. */
export interface FailureTtls {
  /** Media refused for what it is (`MediaError.lasting`): its content will not change. */
  lastingMs: number;
  /** The origin was unreachable or answered an error: it may recover. */
  transientMs: number;
  /** No room Atlas shows has this avatar (yet): one may after the next crawl. */
  unknownMs: number;
}

export const DEFAULT_FAILURE_TTLS: FailureTtls = {
  lastingMs: 24 * 60 * 60 * 1000,
  transientMs: 10 * 60 * 1000,
  unknownMs: 10 * 60 * 1000,
};

/** Remote fetches at once, over all origins (each holds at most MAX_MEDIA_BYTES in memory). */
const FETCHES_AT_ONCE = 4;
/** Failures remembered at most; the oldest are forgotten first. */
const MAX_FAILURES = 50_000;
/**
 * How long a cached avatar is served before Atlas checks again that a shown room still has it: a
 * room the operator hides, or a server blocked, stops showing its avatar within this time.
 */
const SHOWN_RECHECK_MS = 10 * 60 * 1000;
const MAX_SHOWN = 50_000;

export interface AvatarServiceOptions {
  store: AvatarStore;
  federation: FederationClient;
  http: HttpClient;
  log: Logger;
  /**
   * Whether Atlas shows a room with this avatar and may contact its server (not blocked). Only
   * such media is fetched: Atlas is no proxy for any `mxc://` someone names.
   */
  isShownAvatar(ref: MediaRef): Promise<boolean>;
  failureTtls?: FailureTtls;
  /** How long a cached avatar is served before its room is checked again (default 10 minutes). */
  shownRecheckMs?: number;
  /** Aborted at shutdown: fetches in flight stop. */
  signal?: AbortSignal;
}

interface Failure {
  until: number;
  reason: MediaFailure;
  message: string;
}

/**
 * Room avatars, served from the disk cache, fetched from the media's origin on the first request
 * (never at crawl time), decoded and re-encoded before anything is stored. Concurrent requests for
 * one avatar share one fetch, and a failure is remembered for a while so that a popular page does
 * not send its origin a request per visitor.
 */
export class AvatarService {
  private readonly inFlight = new Map<string, Promise<AvatarAnswer>>();
  private readonly failures = new Map<string, Failure>();
  /** `mxc://` → until when it counts as a shown room's avatar without asking the database again. */
  private readonly shown = new Map<string, number>();
  private readonly fetchSlots = new Semaphore(FETCHES_AT_ONCE);
  private readonly ttls: FailureTtls;

  constructor(private readonly options: AvatarServiceOptions) {
    this.ttls = options.failureTtls ?? DEFAULT_FAILURE_TTLS;
  }

  async get(ref: MediaRef, variantName: AvatarVariant['name']): Promise<AvatarAnswer> {
    const variant = AVATAR_VARIANTS[variantName];
    const key = `${ref.serverName}/${ref.mediaId}/${variant.name}`;
    const failure = this.failures.get(key);
    if (failure && failure.until > Date.now()) {
      return { ok: false, reason: failure.reason, message: failure.message };
    }
    const stored = await this.options.store.get(key);
    if (stored) {
      if (await this.isShown(ref)) return { ok: true, avatar: stored, contentType: AVATAR_CONTENT_TYPE };
      this.remember(key, 'not_found', NOT_SHOWN, this.ttls.unknownMs);
      return { ok: false, reason: 'not_found', message: NOT_SHOWN };
    }
    let pending = this.inFlight.get(key);
    if (!pending) {
      pending = this.fetch(key, ref, variant).finally(() => this.inFlight.delete(key));
      this.inFlight.set(key, pending);
    }
    return pending;
  }

  private async fetch(key: string, ref: MediaRef, variant: AvatarVariant): Promise<AvatarAnswer> {
    const { log } = this.options;
    const media = { server: ref.serverName, mediaId: ref.mediaId, variant: variant.name };
    if (!(await this.isShown(ref))) {
      this.remember(key, 'not_found', NOT_SHOWN, this.ttls.unknownMs);
      log.debug(media, `avatar not fetched: ${NOT_SHOWN}`);
      return { ok: false, reason: 'not_found', message: NOT_SHOWN };
    }
    const started = performance.now();
    const release = await this.fetchSlots.acquire(this.options.signal);
    try {
      const fetched = await fetchThumbnail(
        { federation: this.options.federation, http: this.options.http, signal: this.options.signal },
        ref,
        variant,
      );
      let rendered: Awaited<ReturnType<typeof renderAvatar>>;
      try {
        rendered = await renderAvatar(fetched.bytes, fetched.contentType, variant);
      } catch (error) {
        if (error instanceof MediaError) error.route ??= fetched.route;
        throw error;
      }
      const avatar = await this.options.store.put(key, rendered.bytes);
      log.info(
        {
          ...media,
          route: fetched.route,
          bytesIn: fetched.bytes.length,
          bytesOut: rendered.bytes.length,
          source: rendered.source,
          ms: Math.round(performance.now() - started),
        },
        `avatar fetched over ${fetched.route === 'legacy' ? 'the legacy media API' : 'federation media'}`,
      );
      return { ok: true, avatar, contentType: AVATAR_CONTENT_TYPE };
    } catch (error) {
      if (!(error instanceof MediaError)) throw error;
      const ttl = error.lasting ? this.ttls.lastingMs : this.ttls.transientMs;
      this.remember(key, error.reason, error.message, ttl);
      const line = {
        ...media,
        route: error.route ?? null,
        reason: error.reason,
        retryInS: Math.round(ttl / 1000),
      };
      // What a hostile or broken origin sent is worth an operator's look; a missing file is not.
      if (
        error.reason === 'not_found' ||
        error.reason === 'unreachable' ||
        error.reason === 'upstream_error'
      ) {
        log.info(line, `avatar not fetched: ${error.message}`);
      } else {
        log.warn(line, `avatar refused: ${error.message}`);
      }
      return { ok: false, reason: error.reason, message: error.message };
    } finally {
      release();
    }
  }

  /** Whether a shown room has this avatar, asked of the database at most every SHOWN_RECHECK_MS. */
  private async isShown(ref: MediaRef): Promise<boolean> {
    const mxc = `mxc://${ref.serverName}/${ref.mediaId}`;
    const until = this.shown.get(mxc);
    if (until !== undefined && until > Date.now()) return true;
    this.shown.delete(mxc);
    if (!(await this.options.isShownAvatar(ref))) return false;
    this.shown.set(mxc, Date.now() + (this.options.shownRecheckMs ?? SHOWN_RECHECK_MS));
    if (this.shown.size > MAX_SHOWN) {
      const oldest = this.shown.keys().next();
      if (!oldest.done) this.shown.delete(oldest.value);
    }
    return true;
  }

  private remember(key: string, reason: MediaFailure, message: string, ttlMs: number): void {
    this.failures.delete(key);
    this.failures.set(key, { until: Date.now() + ttlMs, reason, message });
    if (this.failures.size > MAX_FAILURES) {
      const oldest = this.failures.keys().next();
      if (!oldest.done) this.failures.delete(oldest.value);
    }
  }
}
