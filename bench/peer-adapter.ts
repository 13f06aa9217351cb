/**
 * A PostgreSQL storage adapter for panva/oidc-provider, so the peer keeps its state
 * where Warta keeps its own (durable, shared by every instance) instead of its
 * development-only in-memory LRU. The shape is oidc-provider's documented adapter
 * interface; one jsonb table, indexed like the project's example adapters.
 */
import pg from 'pg';

export async function createPeerAdapter(databaseUrl: string, poolSize: number) {
  const pool = new pg.Pool({ connectionString: databaseUrl, max: poolSize });
  await pool.query(`
    create table if not exists oidc_peer_models (
      model text not null,
      id text not null,
      payload jsonb not null,
      grant_id text,
      user_code text,
      uid text,
      expires_at timestamptz,
      consumed_at timestamptz,
      primary key (model, id)
    );
    create index if not exists oidc_peer_models_grant_idx on oidc_peer_models (grant_id);
    create index if not exists oidc_peer_models_uid_idx on oidc_peer_models (uid);
    create index if not exists oidc_peer_models_user_code_idx on oidc_peer_models (user_code);`);

  const toPayload = (row: { payload: Record<string, unknown>; consumed_at: Date | null } | undefined) =>
    row && { ...row.payload, ...(row.consumed_at ? { consumed: Math.floor(row.consumed_at.getTime() / 1000) } : {}) };

  class PostgresAdapter {
    constructor(private readonly model: string) {}

    async upsert(id: string, payload: Record<string, unknown>, expiresIn?: number): Promise<void> {
      await pool.query(
        `insert into oidc_peer_models (model, id, payload, grant_id, user_code, uid, expires_at)
         values ($1, $2, $3, $4, $5, $6, $7)
         on conflict (model, id) do update set payload = excluded.payload, grant_id = excluded.grant_id,
           user_code = excluded.user_code, uid = excluded.uid, expires_at = excluded.expires_at`,
        [this.model, id, payload, payload.grantId ?? null, payload.userCode ?? null, payload.uid ?? null, expiresIn ? new Date(Date.now() + expiresIn * 1000) : null],
      );
    }

    async find(id: string) {
      const { rows } = await pool.query('select payload, consumed_at from oidc_peer_models where model = $1 and id = $2 and (expires_at is null or expires_at > now())', [this.model, id]);
      return toPayload(rows[0]);
    }

    async findByUid(uid: string) {
      const { rows } = await pool.query('select payload, consumed_at from oidc_peer_models where model = $1 and uid = $2 and (expires_at is null or expires_at > now())', [this.model, uid]);
      return toPayload(rows[0]);
    }

    async findByUserCode(userCode: string) {
      const { rows } = await pool.query('select payload, consumed_at from oidc_peer_models where model = $1 and user_code = $2 and (expires_at is null or expires_at > now())', [this.model, userCode]);
      return toPayload(rows[0]);
    }

    async consume(id: string): Promise<void> {
      await pool.query('update oidc_peer_models set consumed_at = now() where model = $1 and id = $2', [this.model, id]);
    }

    async destroy(id: string): Promise<void> {
      await pool.query('delete from oidc_peer_models where model = $1 and id = $2', [this.model, id]);
    }

    async revokeByGrantId(grantId: string): Promise<void> {
      await pool.query('delete from oidc_peer_models where grant_id = $1', [grantId]);
    }
  }

  return { Adapter: PostgresAdapter, close: () => pool.end() };
}
