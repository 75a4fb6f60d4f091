export * from './errors.ts';
export * from './redis-keys.ts';
export * from './retry-policy.ts';
export * from './task.ts';
export * from './task-scripts.ts';
export * from './queue-policy.ts';
export * from './job-ids.ts';
export * from './circuit.ts';
