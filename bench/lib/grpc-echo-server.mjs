// The transport floor for gRPC benchmarks: a bare grpc-js server in its own process answering a unary call with its
// request, so a client pays exactly the cross-process HTTP/2 round trip a service call pays, and nothing else.
import { Server, ServerCredentials } from '@grpc/grpc-js';

export const ECHO_PATH = '/bench.Echo/Echo';
const identity = (value) => value;

if (process.argv[1] && import.meta.url.endsWith(process.argv[1].split('/').pop())) {
  const server = new Server();
  const method = { path: ECHO_PATH, requestStream: false, responseStream: false, requestSerialize: identity, requestDeserialize: identity, responseSerialize: identity, responseDeserialize: identity };
  server.addService({ echo: method }, { echo: (call, callback) => callback(null, call.request) });
  server.bindAsync(`127.0.0.1:${process.env.PORT}`, ServerCredentials.createInsecure(), (error) => {
    if (error) throw error;
    process.stdout.write('ready\n');
  });
}
