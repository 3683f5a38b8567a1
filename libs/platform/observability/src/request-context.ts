import { AsyncLocalStorage } from 'node:async_hooks';

/** Identifiers of the request being handled, carried across awaits so every log line can name it. */
export interface RequestContext {
  requestId: string;
  traceId?: string;
}

/** Run a handler inside a context: `requestContext.run({ requestId, traceId }, () => handle(req))`. */
export const requestContext = new AsyncLocalStorage<RequestContext>();

export function currentRequestContext(): RequestContext | undefined {
  return requestContext.getStore();
}
