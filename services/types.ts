import type { MlflowRecord, TemporalRecord } from './services-state.ts';

/** Where the CLI, workers and tests connect. */
export interface ServiceEndpoints {
  /** host:port of Temporal's frontend gRPC service */
  temporalAddress: string;
  /** base URL of the MLflow tracking server (REST API and artifact proxy) */
  mlflowUri: string;
  temporalUiUrl?: string;
  mlflowUiUrl: string;
  /** set by TEMPORAL_ADDRESS / MLFLOW_TRACKING_URI: nothing local runs for that server */
  external: { temporal: boolean; mlflow: boolean };
}

export interface ServicesInfo extends ServiceEndpoints {
  stateDir: string;
  /** the locally managed servers, as recorded in services.json */
  local: { temporal?: TemporalRecord; mlflow?: MlflowRecord };
  /** true where a server recorded by an earlier `servicesUp` was healthy and kept */
  reused: { temporal: boolean; mlflow: boolean };
}

export type ServiceState = 'running' | 'stopped' | 'unhealthy' | 'external';

export interface ServiceStatus {
  state: ServiceState;
  /** Temporal address or MLflow URI, where one is known */
  endpoint?: string;
  pid?: number;
  logPath?: string;
  startedAt?: string;
  /** for external servers: whether they answered the health check */
  reachable?: boolean;
}

export interface ServicesStatus {
  stateDir: string;
  temporal: ServiceStatus;
  mlflow: ServiceStatus;
}

export interface ServicesUpOptions {
  stateDir: string;
  temporalPort?: number;
  temporalUiPort?: number;
  mlflowPort?: number;
  env?: NodeJS.ProcessEnv;
}
