import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { NamespaceSettingsService } from '../namespace-settings/namespace-settings.service.js';
import { configFailure, openConfigTestBed, type ConfigTestBed } from '../testing/config-test-bed.js';
import { ConfigsService, type ConfigActor } from './configs.service.js';
import { ConfigException, ConfigExceptionCode } from './exceptions/config.exception.js';

const admin: ConfigActor = { principal: { id: 'admin-1', type: 'user', roles: ['global-admin'] }, requestId: 'r1' };
// Writes and deletes in development (and base), reads staging too, sees nothing of production.
const developer: ConfigActor = { principal: { id: 'dev-1', type: 'user', roles: ['developer'] }, requestId: 'r2' };

const endpoint = (model: string) => ({ provider: 'openai', model, api_key: { $secret: 'llm/openai' } });

const failure = configFailure;

describe(`${ConfigsService.name}: deleting a model endpoint a failover chain names`, () => {
  let bed: ConfigTestBed;
  let configs: ConfigsService;
  let settings: NamespaceSettingsService;

  beforeAll(async () => {
    bed = await openConfigTestBed('endpoint_deletion');
    ({ configs, settings } = bed);
  });

  afterAll(async () => {
    await bed?.close();
  });

  const set = (namespace: string, key: string, environment: string, value: unknown) => configs.set(admin, { namespace, key, environment, value });
  const remove = (namespace: string, key: string, environment: string) => configs.delete(admin, { namespace, key, environment });
  const live = async (namespace: string, key: string, environment: string): Promise<boolean> => {
    try {
      await configs.get(admin, { namespace, key, environment, exact: true });
      return true;
    } catch (error) {
      if (error instanceof ConfigException && error.code === ConfigExceptionCode.NotFound) return false;
      throw error;
    }
  };

  it('refuses with CONFLICT naming the chain and where it would break, and writes nothing', async () => {
    await set('refs/plain', 'endpoint.gpt', 'base', endpoint('gpt-4o'));
    await set('refs/plain', 'endpoint.claude', 'base', endpoint('claude'));
    await set('refs/plain', 'failover.main', 'production', { primary: 'gpt', fallbacks: ['claude'] });
    const before = await configs.currentRevision();
    const refused = await failure(remove('refs/plain', 'endpoint.claude', 'base'));
    expect(refused).toMatchObject({ code: ConfigExceptionCode.Conflict, field: 'key' });
    expect(refused.message).toBe(
      'config refs/plain/endpoint.claude cannot be deleted from base: failover chain failover.main (in production) would name the missing ' +
        'endpoint claude; point it at other endpoints or delete it first',
    );
    expect(await configs.currentRevision()).toBe(before);
    expect(await live('refs/plain', 'endpoint.claude', 'base')).toBe(true);
    // Once the chain no longer names it, it goes.
    await set('refs/plain', 'failover.main', 'production', { primary: 'gpt' });
    await remove('refs/plain', 'endpoint.claude', 'base');
    expect(await live('refs/plain', 'endpoint.claude', 'base')).toBe(false);
  });

  it('lets an override go while a less specific environment still serves the endpoint, as any inherited config', async () => {
    await set('refs/override', 'endpoint.gpt', 'base', endpoint('gpt-4o'));
    await set('refs/override', 'endpoint.gpt', 'production', endpoint('gpt-4o-2024-08-06'));
    await set('refs/override', 'failover.main', 'production', { primary: 'gpt' });
    await remove('refs/override', 'endpoint.gpt', 'production');
    const inherited = await configs.get(admin, { namespace: 'refs/override', key: 'endpoint.gpt', environment: 'production' });
    expect(inherited.resolvedFrom).toBe('base');
    expect((await failure(remove('refs/override', 'endpoint.gpt', 'base'))).code).toBe(ConfigExceptionCode.Conflict);
  });

  it('follows the environment chain both ways: a chain serves the environments above it, an endpoint those above it', async () => {
    // A development chain also serves staging and production, which have none of their own.
    await set('refs/inherit', 'endpoint.gpt', 'base', endpoint('gpt-4o'));
    await set('refs/inherit', 'failover.dev', 'development', { primary: 'gpt' });
    expect((await failure(remove('refs/inherit', 'endpoint.gpt', 'base'))).message).toContain('failover.dev (in development, staging, production)');
    // A production chain reaches an endpoint written in development only.
    await set('refs/inherit', 'endpoint.local', 'development', endpoint('llama'));
    await set('refs/inherit', 'failover.prod', 'production', { primary: 'local' });
    expect((await failure(remove('refs/inherit', 'endpoint.local', 'development'))).message).toContain('failover.prod (in production)');
    // A version no chain resolves to may go: production's chain uses production's own endpoint, not development's.
    await set('refs/inherit', 'endpoint.prod-only', 'production', endpoint('gpt-4o'));
    await set('refs/inherit', 'endpoint.prod-only', 'development', endpoint('gpt-4o-mini'));
    await set('refs/inherit', 'failover.prod', 'production', { primary: 'prod-only' });
    await remove('refs/inherit', 'endpoint.prod-only', 'development');
    // The production one may not: with development's gone too, nothing below production serves the chain.
    const refused = await failure(remove('refs/inherit', 'endpoint.prod-only', 'production'));
    expect(refused.message).toContain('failover.prod (in production)');
  });

  it("names every chain that would break, and resolves through the namespace's own environment chain", async () => {
    await settings.set(admin, { namespace: 'refs-custom', environments: ['base', 'dev', 'prod'] });
    await set('refs-custom/app', 'endpoint.gpt', 'base', endpoint('gpt-4o'));
    await set('refs-custom/app', 'endpoint.claude', 'base', endpoint('claude'));
    await set('refs-custom/app', 'failover.a', 'prod', { primary: 'claude', fallbacks: ['gpt'] });
    await set('refs-custom/app', 'failover.b', 'dev', { primary: 'gpt' });
    // A deleted chain names nothing.
    await set('refs-custom/app', 'failover.gone', 'base', { primary: 'gpt' });
    await remove('refs-custom/app', 'failover.gone', 'base');
    const refused = await failure(remove('refs-custom/app', 'endpoint.gpt', 'base'));
    expect(refused.message).toContain('failover chains failover.a (in prod), failover.b (in dev, prod) would name the missing endpoint gpt');
    // Another namespace's chain of the same name is not this namespace's business.
    await set('refs-custom/other', 'endpoint.gpt', 'base', endpoint('gpt-4o'));
    await remove('refs-custom/other', 'endpoint.gpt', 'base');
  });

  describe('in a bulk', () => {
    it('refuses the whole bulk, naming the deletion, when a chain would be left without its endpoint', async () => {
      await set('refs/bulk', 'endpoint.gpt', 'production', endpoint('gpt-4o'));
      await set('refs/bulk', 'failover.main', 'production', { primary: 'gpt' });
      const before = await configs.currentRevision();
      const refused = await failure(
        configs.bulk(admin, [
          { kind: 'set', namespace: 'refs/bulk', key: 'unrelated', environment: 'production', value: 1 },
          { kind: 'delete', namespace: 'refs/bulk', key: 'endpoint.gpt', environment: 'production' },
        ]),
      );
      expect(refused).toMatchObject({ code: ConfigExceptionCode.Conflict, field: 'operations[1].key' });
      expect(refused.message).toMatch(/^operation 1: config refs\/bulk\/endpoint\.gpt cannot be deleted from production: failover chain failover\.main/);
      expect(await configs.currentRevision()).toBe(before);
      expect(await live('refs/bulk', 'unrelated', 'production')).toBe(false);
      expect(await live('refs/bulk', 'endpoint.gpt', 'production')).toBe(true);
      // A chain written later in the same bulk counts too.
      await set('refs/bulk', 'failover.main', 'production', { primary: 'gpt', fallbacks: [] });
      const laterChain = await failure(
        configs.bulk(admin, [
          { kind: 'delete', namespace: 'refs/bulk', key: 'failover.main', environment: 'production' },
          { kind: 'delete', namespace: 'refs/bulk', key: 'endpoint.gpt', environment: 'production' },
          { kind: 'set', namespace: 'refs/bulk', key: 'failover.next', environment: 'production', value: { primary: 'gpt' } },
        ]),
      );
      expect(laterChain.field).toBe('operations[1].key');
      expect(laterChain.message).toContain('failover.next (in production)');
    });

    it('checks the state the whole bulk leaves, so a chain and its endpoints go together in any order', async () => {
      await set('refs/together', 'endpoint.gpt', 'production', endpoint('gpt-4o'));
      await set('refs/together', 'endpoint.claude', 'production', endpoint('claude'));
      await set('refs/together', 'failover.main', 'production', { primary: 'gpt', fallbacks: ['claude'] });
      const applied = await configs.bulk(admin, [
        { kind: 'delete', namespace: 'refs/together', key: 'endpoint.gpt', environment: 'production' },
        { kind: 'delete', namespace: 'refs/together', key: 'failover.main', environment: 'production' },
        { kind: 'delete', namespace: 'refs/together', key: 'endpoint.claude', environment: 'production' },
      ]);
      expect(applied.map((entry) => [entry.key, entry.deleted])).toEqual([
        ['endpoint.gpt', true],
        ['failover.main', true],
        ['endpoint.claude', true],
      ]);
      // Replacing an endpoint in one bulk leaves the chain an endpoint to use.
      await set('refs/together', 'endpoint.gpt', 'production', endpoint('gpt-4o'));
      await set('refs/together', 'failover.main', 'production', { primary: 'gpt' });
      await configs.bulk(admin, [
        { kind: 'delete', namespace: 'refs/together', key: 'endpoint.gpt', environment: 'production' },
        { kind: 'set', namespace: 'refs/together', key: 'endpoint.gpt', environment: 'production', value: endpoint('gpt-4.1') },
      ]);
      expect((await configs.get(admin, { namespace: 'refs/together', key: 'endpoint.gpt', environment: 'production' })).entry.value).toEqual(endpoint('gpt-4.1'));
    });
  });
  it('refuses a failover chain naming endpoints that do not resolve where it applies, on every write path', async () => {
    await set('refs/write', 'endpoint.gpt', 'base', endpoint('gpt-4o'));
    await set('refs/write', 'endpoint.claude', 'production', endpoint('claude'));
    const before = await configs.currentRevision();
    // Written at base, the chain also serves development and staging, where claude does not resolve.
    const plain = await failure(set('refs/write', 'failover.main', 'base', { primary: 'gpt', fallbacks: ['claude'] }));
    expect(plain).toMatchObject({ code: ConfigExceptionCode.InvalidValue, field: 'value' });
    expect(plain.message).toBe(
      'failover chain refs/write/failover.main names an endpoint that does not resolve where it applies: claude (in base, development, staging); ' +
        'write endpoint.<name> there first',
    );
    expect(await configs.currentRevision()).toBe(before);
    // In production, where both resolve, it is written.
    await set('refs/write', 'failover.main', 'production', { primary: 'gpt', fallbacks: ['claude'] });
    // A bulk is checked once applied: the chain may come before the endpoint it names.
    await configs.bulk(admin, [
      { kind: 'set', namespace: 'refs/write', key: 'failover.fast', environment: 'base', value: { primary: 'mini' } },
      { kind: 'set', namespace: 'refs/write', key: 'endpoint.mini', environment: 'base', value: endpoint('gpt-4o-mini') },
    ]);
    const bulk = await failure(
      configs.bulk(admin, [{ kind: 'set', namespace: 'refs/write', key: 'failover.slow', environment: 'base', value: { primary: 'nowhere' } }]),
    );
    expect(bulk).toMatchObject({ code: ConfigExceptionCode.InvalidValue, field: 'operations[0].value' });
    expect(bulk.message).toMatch(/^operation 0: failover chain refs\/write\/failover.slow names an endpoint that does not resolve where it applies: nowhere/);
    // Rolling a chain back, or undeleting it, to a version naming an endpoint deleted since is refused the same way.
    await set('refs/write', 'endpoint.old', 'base', endpoint('old'));
    const first = await set('refs/write', 'failover.legacy', 'base', { primary: 'old' });
    await set('refs/write', 'failover.legacy', 'base', { primary: 'gpt' });
    await remove('refs/write', 'endpoint.old', 'base');
    const rollback = await failure(configs.rollback(admin, { namespace: 'refs/write', key: 'failover.legacy', environment: 'base', version: first.version }));
    expect(rollback).toMatchObject({ code: ConfigExceptionCode.InvalidValue, field: 'value' });
    expect(rollback.message).toContain('old (in base, development, staging, production)');
  });

  it('names in its refusals only the environments the caller may read, and counts what it cannot show', async () => {
    await set('refs/hidden', 'endpoint.gpt', 'development', endpoint('gpt-4o'));
    await set('refs/hidden', 'failover.prod', 'production', { primary: 'gpt' });
    await set('refs/hidden', 'failover.dev', 'development', { primary: 'gpt' });
    // The developer's chain serves development (and staging and production, which have none of their own).
    const deletion = await failure(configs.delete(developer, { namespace: 'refs/hidden', key: 'endpoint.gpt', environment: 'development' }));
    expect(deletion.code).toBe(ConfigExceptionCode.Conflict);
    expect(deletion.message).toContain(
      'failover chains failover.dev (in development, staging and environments you may not read), a failover chain in environments you may not read',
    );
    expect(deletion.message).not.toContain('production');
    expect(deletion.message).not.toContain('failover.prod');
    // The admin reading everything is told everything.
    expect((await failure(remove('refs/hidden', 'endpoint.gpt', 'development'))).message).toContain(
      'failover.dev (in development, staging, production), failover.prod (in production)',
    );
    const write = await failure(
      configs.set(developer, { namespace: 'refs/hidden', key: 'failover.wide', environment: 'base', value: { primary: 'nowhere' } }),
    );
    expect(write.code).toBe(ConfigExceptionCode.InvalidValue);
    expect(write.message).toContain('nowhere (in base, development, staging and environments you may not read)');
    // Only a production chain needs it: nothing is named but the count.
    await set('refs/hidden', 'endpoint.solo', 'development', endpoint('gpt-4o-mini'));
    await set('refs/hidden', 'failover.solo', 'production', { primary: 'solo' });
    expect((await failure(configs.delete(developer, { namespace: 'refs/hidden', key: 'endpoint.solo', environment: 'development' }))).message).toBe(
      'config refs/hidden/endpoint.solo cannot be deleted from development: a failover chain in environments you may not read would name the ' +
        'missing endpoint solo; point it at other endpoints or delete it first',
    );
  });

  it('refuses a settings change whose environment chain would leave a chain naming an endpoint that no longer resolves', async () => {
    // production's chain reaches the endpoint through staging; a chain without staging would cut it off.
    await set('envs/app', 'endpoint.eu', 'staging', endpoint('gpt-4o'));
    await set('envs/app', 'failover.main', 'production', { primary: 'eu' });
    await set('envs/app/child', 'endpoint.eu', 'staging', endpoint('gpt-4o'));
    await set('envs/app/child', 'failover.child', 'production', { primary: 'eu' });
    const before = await settings.read(admin, 'envs/app');
    const refused = await failure(settings.set(admin, { namespace: 'envs', environments: ['base', 'development', 'production'] }));
    expect(refused).toMatchObject({ code: ConfigExceptionCode.Conflict, field: 'environments' });
    expect(refused.message).toBe(
      'these settings of envs would leave failover chains naming endpoints that do not resolve where they apply: ' +
        'envs/app/failover.main -> eu (in production), envs/app/child/failover.child -> eu (in production); ' +
        'write the endpoints in those environments, or change the chains, first',
    );
    // Nothing was written: the namespace still resolves through the default chain.
    expect(await settings.read(admin, 'envs/app')).toEqual(before);

    // A namespace with settings of its own is not governed by its ancestor's: only envs/app's chain breaks now.
    await settings.set(admin, { namespace: 'envs/app/child', environments: ['base', 'staging', 'production'] });
    expect((await failure(settings.set(admin, { namespace: 'envs', environments: ['base', 'production'] }))).message).toContain(
      'leave failover chains naming endpoints that do not resolve where they apply: envs/app/failover.main -> eu (in production);',
    );
    // Once the endpoint resolves without staging, the same change goes through.
    await set('envs/app', 'endpoint.eu', 'production', endpoint('gpt-4o'));
    await settings.set(admin, { namespace: 'envs', environments: ['base', 'production'] });
    const resolved = await configs.get(admin, { namespace: 'envs/app', key: 'endpoint.eu', environment: 'production' });
    expect(resolved.resolvedFrom).toBe('production');
  });

  it('lets settings change when the chains they govern were already broken, as long as the change breaks nothing new', async () => {
    await set('envs-legacy', 'endpoint.a', 'base', endpoint('gpt-4o'));
    await set('envs-legacy', 'failover.main', 'production', { primary: 'a' });
    // A chain left dangling by data from before these checks (written here directly, past the service).
    await bed.database.dataSource.query(
      `UPDATE config_manager.config_entries SET value = '{"primary": "ghost"}' WHERE namespace = 'envs-legacy' AND key = 'failover.main'`,
    );
    await settings.set(admin, { namespace: 'envs-legacy', environments: ['base', 'staging', 'production'] });
    expect((await settings.read(admin, 'envs-legacy')).settings.environments).toEqual(['base', 'staging', 'production']);
    // A new environment the broken chain now also serves is the old breakage too, not one this change makes.
    await settings.set(admin, { namespace: 'envs-legacy', environments: ['base', 'canary', 'staging', 'production'] });
  });

  it('names in a settings refusal only what a caller that may not read everything may see', async () => {
    await set('envs-scoped/app', 'endpoint.eu', 'staging', endpoint('gpt-4o'));
    await set('envs-scoped/app', 'failover.main', 'production', { primary: 'eu' });
    // An API key narrowed to writing: every environment's settings, no reads.
    const writer: ConfigActor = { principal: { id: 'key-1', type: 'api_key', roles: ['global-admin'], scopes: ['configs:write'] }, requestId: 'r3' };
    const refused = await failure(settings.set(writer, { namespace: 'envs-scoped', environments: ['base', 'production'] }));
    expect(refused.code).toBe(ConfigExceptionCode.Conflict);
    expect(refused.message).toContain('do not resolve where they apply: a chain in environments you may not read;');
    expect(refused.message).not.toContain('failover.main');
  });
});
