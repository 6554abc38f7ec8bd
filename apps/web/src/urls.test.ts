import { describe, expect, it } from 'vitest';
import { href, pagerLinks, present } from './urls.ts';

describe('page addresses', () => {
  it('drops the empty fields a GET form sends and orders the rest', () => {
    expect(present({ q: ' rust ', language: '', sort: undefined })).toEqual({ q: 'rust' });
    expect(href('/', { sort: 'members', q: 'rust', language: '' })).toBe('/?q=rust&sort=members');
  });

  it('pages forward and back over cursors without JavaScript', () => {
    const first = pagerLinks('/', { q: 'rust' }, 'C1');
    expect(first).toMatchObject({ previous: null, next: '/?back=0&cursor=C1&q=rust', page: 1 });
    const second = pagerLinks('/', { q: 'rust', cursor: 'C1', back: '0' }, 'C2');
    expect(second).toMatchObject({ previous: '/?q=rust', next: '/?back=0%2CC1&cursor=C2&q=rust', page: 2 });
    const third = pagerLinks('/', { q: 'rust', cursor: 'C2', back: '0,C1' }, null);
    expect(third).toMatchObject({
      previous: '/?back=0&cursor=C1&q=rust',
      next: null,
      page: 3,
      first: '/?q=rust',
    });
  });

  it('falls back to the first page when the way back is unknown', () => {
    const shared = pagerLinks('/', { cursor: 'C7' }, 'C8');
    expect(shared.previous).toBe('/');
    expect(shared.page).toBeNull();
  });
});
