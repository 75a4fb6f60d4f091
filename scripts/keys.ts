/**
 * `npm run keys -- create|list|revoke`: API keys kept in Redis (hashed). The server reads
 * them when AUTH_REQUIRED=true or API_KEYS is set; revoking works for API_KEYS entries too.
 *
 *   npm run keys -- create --tenant acme --scopes tasks:write,tasks:read [--label "ci"]
 *   npm run keys -- list
 *   npm run keys -- revoke <key id>
 *
 * Uses the same Redis settings as the server (REDIS_URL or Sentinel, REDIS_KEY_PREFIX).
 */
import { parseArgs } from 'node:util';
import { ConfigError, parseEnv } from '../common/env.ts';
import { redisConfigFrom, redisEnvChecks, redisEnvShape } from '../common/redis-config.ts';
import { createRedisClient, parseRedisUrl } from '../common/redis-connection.ts';
import { requireRedisVersion } from '../common/redis-version.ts';
import { createRedisKeys } from '../schema/src/redis-keys.ts';
import { generateKey, hashKey, keyIdOf, scopeList, tenantName } from '../server/auth/api-keys.ts';
import { createKeyStore } from '../server/auth/key-store.ts';

const USAGE = `usage:
  npm run keys -- create --tenant <tenant> --scopes <tasks:write,tasks:read,admin> [--label <text>]
  npm run keys -- list
  npm run keys -- revoke <key id>`;

class UsageError extends Error {}

async function main(argv: string[]): Promise<void> {
  const { positionals, values } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: { tenant: { type: 'string' }, scopes: { type: 'string' }, label: { type: 'string' } },
  });
  const [command, ...rest] = positionals;
  if (!command || !['create', 'list', 'revoke'].includes(command)) throw new UsageError(USAGE);

  const settings = redisConfigFrom(parseEnv(redisEnvShape, process.env, redisEnvChecks));
  const redis = createRedisClient(parseRedisUrl(settings.redisUrl), { name: 'atf-keys' });
  await redis.connect();
  const store = createKeyStore({ redis, keys: createRedisKeys(settings.redisPrefix) });
  try {
    // A Redis the server and workers refuse: a key stored there would be read by nobody.
    await requireRedisVersion(redis, (warning) => console.error(`keys: ${warning}`));
    if (command === 'create') {
      const tenant = tenantName.safeParse(values.tenant);
      const scopes = scopeList.safeParse((values.scopes ?? '').split(',').map((scope) => scope.trim()).filter(Boolean));
      if (!tenant.success || !scopes.success) throw new UsageError(`create needs --tenant (A-Z a-z 0-9 _ . -) and --scopes from tasks:write, tasks:read, admin\n${USAGE}`);
      const key = generateKey();
      const hash = hashKey(key);
      const id = keyIdOf(hash);
      await store.add({ id, hash, tenant: tenant.data, scopes: [...new Set(scopes.data)], ...(values.label ? { label: values.label } : {}), createdAt: Date.now(), source: 'redis' });
      console.log(`created ${id} for tenant ${tenant.data} with ${scopes.data.join(', ')}`);
      console.log(`key (shown once; only its hash is stored): ${key}`);
      console.log('the server accepts it when API_KEYS is set or AUTH_REQUIRED=true');
    } else if (command === 'list') {
      const keys = await store.list();
      if (keys.length === 0) console.log('no keys in Redis (API_KEYS entries are not listed here)');
      for (const key of keys) {
        const state = key.revokedAt ? `revoked ${new Date(key.revokedAt).toISOString()}` : 'active';
        console.log([key.id, key.tenant, key.scopes.join(','), new Date(key.createdAt).toISOString(), state, key.label ?? ''].join('\t'));
      }
      const revoked = Object.keys(await store.revocations()).filter((id) => !keys.some((key) => key.id === id));
      for (const id of revoked) console.log(`${id}\t(API_KEYS entry)\trevoked`);
    } else {
      const id = rest[0];
      if (!id || !/^k_[0-9a-f]{16}$/.test(id)) throw new UsageError(`revoke needs a key id like k_0123456789abcdef (see \`npm run keys -- list\`)\n${USAGE}`);
      console.log((await store.revoke(id)) ? `revoked ${id}` : `${id} was already revoked`);
    }
  } finally {
    await redis.quit().catch(() => redis.disconnect());
  }
}

main(process.argv.slice(2)).catch((error: unknown) => {
  if (error instanceof UsageError || error instanceof ConfigError) {
    console.error(error.message);
    process.exit(2);
  }
  console.error(`keys: ${(error as Error).message}`);
  process.exit(1);
});
