// Who may import whom. Services talk over gRPC and NATS only, so a service scope sees itself, the platform
// libs and the shared contracts; only the all-in-one launcher (scope:launcher) spans scopes; nothing imports an app.
const serviceScopes = ['api-gateway', 'config-manager', 'secret-service', 'audit-service', 'agent-engine', 'optimizer-processor'];

export const depConstraints = [
  { sourceTag: 'type:app', onlyDependOnLibsWithTags: ['type:feature', 'type:data-access', 'type:util', 'type:contracts'] },
  { sourceTag: 'type:feature', onlyDependOnLibsWithTags: ['type:feature', 'type:data-access', 'type:util', 'type:contracts'] },
  { sourceTag: 'type:data-access', onlyDependOnLibsWithTags: ['type:data-access', 'type:util', 'type:contracts'] },
  { sourceTag: 'type:util', onlyDependOnLibsWithTags: ['type:util', 'type:contracts'] },
  { sourceTag: 'type:contracts', onlyDependOnLibsWithTags: ['type:contracts'] },
  { sourceTag: 'scope:shared', onlyDependOnLibsWithTags: ['scope:shared'] },
  { sourceTag: 'scope:platform', onlyDependOnLibsWithTags: ['scope:platform', 'scope:shared'] },
  ...serviceScopes.map((scope) => ({
    sourceTag: `scope:${scope}`,
    onlyDependOnLibsWithTags: [`scope:${scope}`, 'scope:platform', 'scope:shared'],
  })),
  // The SDK ships to users: it may use the contracts and the platform's gRPC client, never a service.
  { sourceTag: 'scope:sdk', onlyDependOnLibsWithTags: ['scope:sdk', 'scope:platform', 'scope:shared'] },
  { sourceTag: 'scope:launcher', onlyDependOnLibsWithTags: ['scope:launcher', 'scope:platform', 'scope:shared', 'scope:sdk', ...serviceScopes.map((s) => `scope:${s}`)] },
];
