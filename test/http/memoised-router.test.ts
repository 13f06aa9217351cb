import { Hono } from 'hono';
import { describe, expect, it } from 'vitest';
import { MEMOISED_PATH_LENGTH, MEMOISED_ROUTES, MemoisedRouter } from '../../src/http/memoised-router.js';

describe('the memoised router', () => {
  const app = () => {
    const router = new MemoisedRouter<never>();
    const hono = new Hono({ router: router as never });
    hono.use('/api/*', async (c, next) => {
      c.header('x-api', '1');
      await next();
    });
    hono.get('/api/things/:id', (c) => c.json({ id: c.req.param('id'), route: c.req.routePath }));
    hono.get('/api/things/special', (c) => c.json({ special: true }));
    hono.post('/token', (c) => c.text('token'));
    return hono;
  };

  it('answers each path with its own parameters and handlers, again and again', async () => {
    const hono = app();
    for (let round = 0; round < 3; round++) {
      expect(await (await hono.request('/api/things/a')).json()).toEqual({ id: 'a', route: '/api/things/:id' });
      expect(await (await hono.request('/api/things/b')).json()).toEqual({ id: 'b', route: '/api/things/:id' });
      const special = await hono.request('/api/things/special');
      // Both routes match this path; hono runs the first registered, as without the memo.
      expect(await special.json()).toEqual({ id: 'special', route: '/api/things/:id' });
      expect(special.headers.get('x-api')).toBe('1');
      expect((await hono.request('/token', { method: 'POST' })).status).toBe(200);
      // The method is part of what is remembered: a GET of /token is not the POST route.
      expect((await hono.request('/token')).status).toBe(404);
    }
  });

  it('stays bounded whatever paths arrive, and still answers right after starting over', async () => {
    const hono = app();
    const matches = (router: MemoisedRouter<never>) => (router as unknown as { matches: Map<string, unknown> }).matches;
    const router = (hono as unknown as { router: MemoisedRouter<never> }).router;
    for (let i = 0; i < MEMOISED_ROUTES * 2 + 10; i++) expect((await hono.request(`/api/things/${i}`)).status).toBe(200);
    expect(matches(router).size).toBeLessThanOrEqual(MEMOISED_ROUTES);
    expect(await (await hono.request('/api/things/7')).json()).toEqual({ id: '7', route: '/api/things/:id' });
    // A long path is routed, not remembered.
    const long = 'x'.repeat(MEMOISED_PATH_LENGTH);
    const before = matches(router).size;
    expect(await (await hono.request(`/api/things/${long}`)).json()).toEqual({ id: long, route: '/api/things/:id' });
    expect(matches(router).size).toBe(before);
  });
});
