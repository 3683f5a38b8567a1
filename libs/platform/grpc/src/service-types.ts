import type { DescMessage, DescService, MessageInitShape, MessageShape } from '@bufbuild/protobuf';

/** What a server handler knows about its call. */
export interface CallContext {
  /** Request metadata (string values only; binary entries are dropped). */
  metadata: Record<string, string>;
  /** `x-request-id` from the caller, or a fresh one. */
  requestId: string;
  deadline?: Date;
  /** Aborted when the caller cancels or the deadline passes. */
  signal: AbortSignal;
  peer: string;
}

type MethodOf<S extends DescService, K extends keyof S['method']> = S['method'][K];

type UnaryHandler<I extends DescMessage, O extends DescMessage> = (
  request: MessageShape<I>,
  context: CallContext,
) => Promise<MessageInitShape<O>>;

type ServerStreamingHandler<I extends DescMessage, O extends DescMessage> = (
  request: MessageShape<I>,
  context: CallContext,
) => AsyncIterable<MessageInitShape<O>>;

/** Handlers typed from the generated descriptor: one per RPC, unary or server-streaming. */
export type ServiceImplementation<S extends DescService> = {
  [K in keyof S['method']]: MethodOf<S, K> extends { methodKind: 'unary'; input: infer I extends DescMessage; output: infer O extends DescMessage }
    ? UnaryHandler<I, O>
    : MethodOf<S, K> extends { methodKind: 'server_streaming'; input: infer I extends DescMessage; output: infer O extends DescMessage }
      ? ServerStreamingHandler<I, O>
      : never;
};

/** Per-call options on the client side. */
export interface CallOptions {
  deadline?: Date;
  timeoutMs?: number;
  metadata?: Record<string, string>;
  signal?: AbortSignal;
  /** The server call this one is made on behalf of: its deadline bounds ours, its identity and request id travel on. */
  parent?: CallContext;
}

type UnaryClientMethod<I extends DescMessage, O extends DescMessage> = (
  request: MessageInitShape<I>,
  options?: CallOptions,
) => Promise<MessageShape<O>>;

type ServerStreamingClientMethod<I extends DescMessage, O extends DescMessage> = (
  request: MessageInitShape<I>,
  options?: CallOptions,
) => AsyncIterable<MessageShape<O>>;

/** A client typed from the generated descriptor. */
export type GrpcClient<S extends DescService> = {
  [K in keyof S['method']]: MethodOf<S, K> extends { methodKind: 'unary'; input: infer I extends DescMessage; output: infer O extends DescMessage }
    ? UnaryClientMethod<I, O>
    : MethodOf<S, K> extends { methodKind: 'server_streaming'; input: infer I extends DescMessage; output: infer O extends DescMessage }
      ? ServerStreamingClientMethod<I, O>
      : never;
} & { close(): void };
