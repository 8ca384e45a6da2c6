export { servicesUp } from './services-up.ts';
export { servicesDown } from './services-down.ts';
export { servicesStatus } from './services-status.ts';
export { resolveServices } from './resolve-services.ts';
export { temporalCommand } from './temporal-server.ts';
export { mlflowCommand } from './mlflow-server.ts';
export type { ServiceEndpoints, ServicesInfo, ServiceState, ServiceStatus, ServicesStatus, ServicesUpOptions } from './types.ts';
export type { MlflowRecord, TemporalRecord } from './services-state.ts';
