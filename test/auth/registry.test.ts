import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { describe, expect, it } from 'vitest';
import { generateApiKey } from '../../gateway/auth/api-keys.js';
import {
  ClientRegistry,
  loadClientRegistry,
  parseClientRegistry,
  saveClientRegistry,
  type ClientRegistryFile,
} from '../../gateway/auth/registry.js';
import { ALL_SCOPES } from '../../lib/auth/scopes.js';
import { identityOfClient } from '../../gateway/auth/registry.js';
import { ConfigError } from '../../lib/config/env.js';
import { clientRecord, keyRecord, scratchDir } from './fixtures.js';

const problemsOf = (fn: () => unknown): readonly string[] => {
  try {
    fn();
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  throw new Error('expected a ConfigError');
};

const prefix = 'CLIENTS_FILE ((in memory)): ';

/** A valid two-client registry as plain data, for tests to break one field at a time. */
function validData(): { clients: Array<Record<string, unknown> & { keys: Array<Record<string, unknown>> }> } {
  return structuredClone({
    clients: [
      clientRecord('personalization-service', [keyRecord().record], { scopes: ['crm:read', 'pii:read'] }),
      clientRecord('reporting-dashboard', [keyRecord().record]),
    ],
  });
}

describe('client registry validation', () => {
  it('should name the client and the field of a bad date', () => {
    const data = validData();
    data.clients[1]!.keys[0]!['expiresAt'] = 'next tuesday';
    expect(problemsOf(() => parseClientRegistry(data))).toEqual([
      `${prefix}clients[1] (id "reporting-dashboard").keys[0].expiresAt: expected an ISO-8601 date-time`,
    ]);
  });

  it('should name an unknown scope and list the known ones', () => {
    const data = validData();
    data.clients[0]!['scopes'] = ['crm:read', 'crm:write'];
    expect(problemsOf(() => parseClientRegistry(data))).toEqual([
      `${prefix}clients[0] (id "personalization-service").scopes[1]: unknown scope "crm:write"; expected one of ${ALL_SCOPES.join(', ')} (or "all" instead of a list)`,
    ]);
  });

  it('should give a client with scopes "all" every scope, and refuse any other word there', () => {
    const data = validData();
    data.clients[0]!['scopes'] = 'all';
    const registry = parseClientRegistry(data);
    const client = registry.client('personalization-service');
    expect(client?.scopes).toBe('all');
    expect(identityOfClient(client!).scopes).toEqual([...ALL_SCOPES].sort());
    data.clients[0]!['scopes'] = 'everything';
    expect(problemsOf(() => parseClientRegistry(data))).toEqual([
      `${prefix}clients[0] (id "personalization-service").scopes: expected "all" or a list of scopes`,
    ]);
  });

  it('should refuse duplicate client ids and duplicate key ids, pointing at both', () => {
    const data = validData();
    data.clients[1]!['id'] = 'personalization-service';
    data.clients[1]!.keys.push({ ...data.clients[0]!.keys[0]! });
    expect(problemsOf(() => parseClientRegistry(data))).toEqual([
      `${prefix}clients[1] (id "personalization-service").id: duplicate client id "personalization-service" (also clients[0])`,
      `${prefix}clients[1] (id "personalization-service").keys[1].id: duplicate key id "${String(data.clients[0]!.keys[0]!['id'])}" (also clients[0].keys[0])`,
    ]);
  });

  it('should name a missing field, a misspelt field and a bad value, all at once', () => {
    const data = validData();
    delete data.clients[0]!['name'];
    const key = data.clients[1]!.keys[0]!;
    key['expires_at'] = '2030-01-01T00:00:00Z';
    key['hash'] = 'plaintext-secret';
    data.clients[1]!['rateLimit'] = { requestsPerMinute: 0, burst: 60 };
    expect(problemsOf(() => parseClientRegistry(data))).toEqual([
      `${prefix}clients[0] (id "personalization-service").name: required, expected a string`,
      `${prefix}clients[1] (id "reporting-dashboard").rateLimit.requestsPerMinute: expected an integer from 1 to 1000000`,
      `${prefix}clients[1] (id "reporting-dashboard").keys[0].hash: expected "sha256:" and 64 lower-case hex digits (never the key itself)`,
      `${prefix}clients[1] (id "reporting-dashboard").keys[0].expires_at: unknown field`,
    ]);
  });

  it('should refuse a file whose top level is not a registry', () => {
    expect(problemsOf(() => parseClientRegistry([]))).toEqual([`${prefix}(top level): expected an object`]);
    expect(problemsOf(() => parseClientRegistry({}))).toEqual([
      `${prefix}clients: required, expected a list`,
    ]);
  });
});

describe('client registry files', () => {
  const data = (): { file: ClientRegistryFile; key: string } => {
    const { key, record } = keyRecord({ label: 'primary' });
    return { key, file: { clients: [clientRecord('reporting-dashboard', [record])] } };
  };

  it('should load the same registry from JSON, YAML and YML', () => {
    const dir = scratchDir();
    const { file, key } = data();
    writeFileSync(join(dir, 'clients.json'), JSON.stringify(file));
    writeFileSync(join(dir, 'clients.yaml'), stringify(file));
    writeFileSync(join(dir, 'clients.yml'), stringify(file));
    for (const name of ['clients.json', 'clients.yaml', 'clients.yml']) {
      const registry = loadClientRegistry(join(dir, name));
      expect(registry.file).toEqual(file);
      expect(registry.verifyApiKey(key)).toMatchObject({ ok: true, identity: { id: 'reporting-dashboard' } });
    }
  });

  it('should name the file for an unknown extension, unreadable syntax or a missing file', () => {
    const dir = scratchDir();
    writeFileSync(join(dir, 'clients.toml'), '');
    writeFileSync(join(dir, 'broken.json'), '{"clients": [');
    writeFileSync(join(dir, 'broken.yaml'), 'clients:\n  - id: a\n   name: b\n');
    expect(problemsOf(() => loadClientRegistry(join(dir, 'clients.toml')))).toEqual([
      `CLIENTS_FILE (${join(dir, 'clients.toml')}): expected a file ending in .json, .yaml or .yml (the extension picks the format)`,
    ]);
    expect(problemsOf(() => loadClientRegistry(join(dir, 'broken.json')))[0]).toMatch(
      /^CLIENTS_FILE \(.*broken\.json\): not valid JSON/,
    );
    expect(problemsOf(() => loadClientRegistry(join(dir, 'broken.yaml')))[0]).toMatch(
      /^CLIENTS_FILE \(.*broken\.yaml\): not valid YAML/,
    );
    expect(problemsOf(() => loadClientRegistry(join(dir, 'absent.json')))).toEqual([
      `CLIENTS_FILE (${join(dir, 'absent.json')}): cannot read the file (ENOENT)`,
    ]);
  });

  it('should save in the format of the path, keep a YAML header comment, and load back', () => {
    const dir = scratchDir();
    const yamlPath = join(dir, 'clients.yaml');
    const { file, key } = data();
    writeFileSync(yamlPath, `# Owned by the platform team.\n${stringify(file)}`);
    const next = structuredClone(file);
    next.clients[0]!.name = 'Renamed dashboard';
    saveClientRegistry(yamlPath, next);
    const text = readFileSync(yamlPath, 'utf8');
    expect(text.startsWith('# Owned by the platform team.\n')).toBe(true);
    expect(text).toContain('name: Renamed dashboard');
    expect(loadClientRegistry(yamlPath).verifyApiKey(key).ok).toBe(true);

    const jsonPath = join(dir, 'clients.json');
    saveClientRegistry(jsonPath, new ClientRegistry(next));
    expect(JSON.parse(readFileSync(jsonPath, 'utf8'))).toEqual(next);
  });

  it('should refuse to save an invalid registry and leave the file as it was', () => {
    const dir = scratchDir();
    const path = join(dir, 'clients.json');
    const { file } = data();
    saveClientRegistry(path, file);
    const before = readFileSync(path, 'utf8');
    const bad = structuredClone(file);
    bad.clients.push(structuredClone(bad.clients[0]!));
    expect(() => saveClientRegistry(path, bad)).toThrow(/duplicate client id "reporting-dashboard"/);
    expect(readFileSync(path, 'utf8')).toBe(before);
  });
});

describe('API key verification', () => {
  const now = new Date('2025-06-01T12:00:00.000Z');
  const old = keyRecord({ expiresAt: '2025-06-08T12:00:00.000Z' });
  const fresh = keyRecord();
  const revoked = keyRecord({ revokedAt: '2025-05-01T00:00:00.000Z' });
  const expired = keyRecord({ expiresAt: '2025-05-31T00:00:00.000Z' });
  const other = keyRecord();
  const registry = parseClientRegistry({
    clients: [
      clientRecord('reporting-dashboard', [old.record, fresh.record, revoked.record, expired.record]),
      clientRecord('personalization-service', [other.record], {
        scopes: ['pii:read', 'crm:read', 'email:read'],
      }),
    ],
  });

  it("should accept a valid key as its client, with the client's scopes sorted", () => {
    expect(registry.verifyApiKey(other.key, now)).toEqual({
      ok: true,
      keyId: other.record.id,
      identity: {
        id: 'personalization-service',
        scopes: ['crm:read', 'email:read', 'pii:read'],
        via: 'api-key',
      },
    });
  });

  it('should refuse a wrong secret and an unknown key id alike', () => {
    const wrongSecret = `mgk_${other.record.id}_${generateApiKey().secret}`;
    expect(registry.verifyApiKey(wrongSecret, now)).toEqual({ ok: false, reason: 'unknown' });
    expect(registry.verifyApiKey(generateApiKey().key, now)).toEqual({ ok: false, reason: 'unknown' });
  });

  it('should refuse a malformed key', () => {
    expect(registry.verifyApiKey(other.key.slice(0, -2), now)).toEqual({ ok: false, reason: 'malformed' });
    expect(registry.verifyApiKey('Bearer something', now)).toEqual({ ok: false, reason: 'malformed' });
  });

  it('should refuse an expired key and a revoked key with their reasons', () => {
    expect(registry.verifyApiKey(expired.key, now)).toEqual({ ok: false, reason: 'expired' });
    expect(registry.verifyApiKey(revoked.key, now)).toEqual({ ok: false, reason: 'revoked' });
  });

  it('should accept the old and the new key together during a rotation, then only the new one', () => {
    const result = (key: string, at: Date) => {
      const verified = registry.verifyApiKey(key, at);
      return verified.ok ? verified.identity.id : verified.reason;
    };
    expect([result(old.key, now), result(fresh.key, now)]).toEqual([
      'reporting-dashboard',
      'reporting-dashboard',
    ]);
    const justBefore = new Date(Date.parse(old.record.expiresAt!) - 1);
    expect(result(old.key, justBefore)).toBe('reporting-dashboard');
    const atExpiry = new Date(old.record.expiresAt!);
    expect([result(old.key, atExpiry), result(fresh.key, atExpiry)]).toEqual([
      'expired',
      'reporting-dashboard',
    ]);
  });

  it('should report demo keys only when one is marked', () => {
    expect(registry.demoKeysPresent()).toBe(false);
    const demo = keyRecord({ demo: true });
    const withDemo = parseClientRegistry({ clients: [clientRecord('demo', [fresh.record, demo.record])] });
    expect(withDemo.demoKeys()).toEqual([{ clientId: 'demo', keyId: demo.record.id }]);
    expect(withDemo.demoKeysPresent()).toBe(true);
  });
});
