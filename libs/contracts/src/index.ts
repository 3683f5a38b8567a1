export * from './gen/llmops/agent/v1/agent_pb.js';
export * from './gen/llmops/audit/v1/audit_pb.js';
export * from './gen/llmops/config/v1/config_pb.js';
export * from './gen/llmops/config/v1/llm_config_pb.js';
export * from './gen/llmops/events/v1/events_pb.js';
export * from './gen/llmops/secrets/v1/secrets_pb.js';
export * from './event-subjects.js';
