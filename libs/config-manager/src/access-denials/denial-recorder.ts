import type { DescService } from '@bufbuild/protobuf';
import { ConfigEventType } from '@llmops/contracts';
import { principalFromMetadata } from '@llmops/platform-auth';
import type { CallContext, ServiceImplementation } from '@llmops/platform-grpc';
import type { Outbox } from '@llmops/platform-messaging';
import type { Logger } from '@llmops/platform-observability';
import type { Database } from '@llmops/platform-persistence';
import { ConfigException, ConfigExceptionCode } from '../configs/exceptions/config.exception.js';

/** Request fields that name what a refused call was about; the values of configs are never recorded. */
const RESOURCE_FIELDS = ['namespace', 'key', 'environment', 'kind', 'name', 'label', 'namespacePrefix'] as const;

/**
 * Records every call config-manager refuses for want of a permission as a `config.access_denied` audit event, whatever
 * the RPC: the gateway's route checks cannot see everything config-manager decides (each operation of a bulk, a
 * prompt label's environment, ABAC conditions on the caller's address), and a denied attempt is a security event.
 */
export class DenialRecorder {
  constructor(
    private readonly database: Database,
    private readonly outbox: Outbox,
    private readonly logger: Logger,
  ) {}

  /** The refusal stands whether or not it could be recorded; a lost record is logged for an operator. */
  async recordIfDenied(error: unknown, rpc: string, request: object, ctx: CallContext): Promise<void> {
    if (!(error instanceof ConfigException) || error.code !== ConfigExceptionCode.PermissionDenied) return;
    const resource = resourceOf(request);
    try {
      // Inside the try: nothing here may replace the refusal the caller is owed.
      const principal = principalFromMetadata(ctx.metadata);
      await this.database.dataSource.transaction((manager) =>
        this.outbox.add(manager, {
          type: ConfigEventType.AccessDenied,
          subject: resource.namespace ? `configs/${resource.namespace}${resource.key ? `/${resource.key}` : ''}` : 'configs',
          payload: { rpc, ...resource, reason: error.message },
          actor: principal && {
            id: principal.id,
            type: principal.type,
            ipAddress: ctx.metadata['x-actor-ip'],
            userAgent: ctx.metadata['x-actor-user-agent'],
          },
          correlationId: ctx.requestId,
        }),
      );
    } catch (recordError) {
      this.logger.error({ err: recordError, rpc, ...resource }, 'could not record a denied config-manager call');
    }
  }
}

/** `implementation` with every refusal of a permission recorded by `recorder` before the error reaches the caller. */
export function recordingDenials<S extends DescService>(
  service: S,
  implementation: ServiceImplementation<S>,
  recorder: DenialRecorder,
): ServiceImplementation<S> {
  const handlers = implementation as unknown as Record<string, (request: object, ctx: CallContext) => unknown>;
  const wrapped: Record<string, unknown> = {};
  for (const [name, method] of Object.entries(service.method)) {
    const handler = handlers[name]!;
    const rpc = `${service.typeName}/${method.name}`;
    wrapped[name] =
      method.methodKind === 'server_streaming'
        ? async function* (request: object, ctx: CallContext) {
            try {
              yield* handler(request, ctx) as AsyncIterable<unknown>;
            } catch (error) {
              await recorder.recordIfDenied(error, rpc, request, ctx);
              throw error;
            }
          }
        : async (request: object, ctx: CallContext) => {
            try {
              return await (handler(request, ctx) as Promise<unknown>);
            } catch (error) {
              await recorder.recordIfDenied(error, rpc, request, ctx);
              throw error;
            }
          };
  }
  return wrapped as ServiceImplementation<S>;
}

function resourceOf(request: object): Record<string, string> {
  const fields = request as Record<string, unknown>;
  const resource: Record<string, string> = {};
  for (const field of RESOURCE_FIELDS) {
    const value = fields[field];
    if (typeof value === 'string' && value !== '') resource[field === 'namespacePrefix' ? 'namespace' : field] = value;
  }
  const operations = fields.operations;
  if (Array.isArray(operations)) resource.operations = String(operations.length);
  return resource;
}
