import { Client, credentials } from '@grpc/grpc-js';

/** Resolves once a gRPC channel to `address` is connected, or rejects after `timeoutMs`; for readiness checks. */
export function grpcReachable(address: string, timeoutMs: number): Promise<void> {
  const client = new Client(address, credentials.createInsecure());
  return new Promise<void>((resolve, reject) => {
    client.waitForReady(Date.now() + timeoutMs, (error) => {
      client.close();
      if (error) reject(new Error(`${address} is not reachable: ${error.message}`));
      else resolve();
    });
  });
}
