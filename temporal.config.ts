// Every Temporal setting in one place: namespace, task queues, and the timeout and retry presets
// that workflows hand to proxyActivities. Workflows import this file, so it must stay free of
// Node APIs (it is bundled into the workflow sandbox).
import { ActivityCancellationType, type ActivityOptions } from '@temporalio/workflow';

export const namespace = 'default';

export const taskQueues = {
  /** ingest, evaluate, track, report: TypeScript work that needs no accelerator */
  cpu: 'cpu',
  /** train, generate: activities that spawn the Python trainer on a GPU node */
  gpu: 'gpu',
} as const;
export type TaskQueue = keyof typeof taskQueues;

/** Errors of these types are the user's (bad spec, bad path): retrying cannot help (see errors.ts). */
export const nonRetryableErrorTypes = ['BadInput'];

// cpu activities name no task queue: they run on the queue of the workflow that calls them (cpu
// in production, a private queue per test file). gpu activities will name taskQueues.gpu.

/**
 * Short bookkeeping calls to DuckDB and MLflow. They heartbeat while they run (activities/index.ts),
 * so a worker that dies in one is noticed after heartbeatTimeout, not the start-to-close timeout.
 */
export const trackingActivity: ActivityOptions = {
  startToCloseTimeout: '2 minutes',
  heartbeatTimeout: '20 seconds',
  retry: {
    initialInterval: '1 second',
    backoffCoefficient: 2,
    maximumInterval: '30 seconds',
    maximumAttempts: 5,
    nonRetryableErrorTypes,
  },
};

/** Dataset ingestion: long, heartbeats progress every few hundred images. */
export const ingestActivity: ActivityOptions = {
  // The workflow waits for the scan to stop before it records the run as KILLED.
  cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
  startToCloseTimeout: '2 hours',
  heartbeatTimeout: '30 seconds',
  retry: {
    initialInterval: '2 seconds',
    backoffCoefficient: 2,
    maximumInterval: '1 minute',
    maximumAttempts: 3,
    nonRetryableErrorTypes,
  },
};

/** How long `medsynth run` waits for a whole experiment before giving up following it. */
export const experimentExecutionTimeout = '7 days';

/**
 * Heartbeats reach the server at most this far apart. The SDK's default (0.8 x heartbeatTimeout)
 * would let a cancellation wait up to 48 s before an activity hears of it.
 */
export const maxHeartbeatThrottleInterval = '1 second';

const gpuRetry = {
  initialInterval: '5 seconds',
  backoffCoefficient: 2,
  maximumInterval: '2 minutes',
  maximumAttempts: 5,
  nonRetryableErrorTypes,
};

/**
 * Fine-tuning on a GPU worker. The activity heartbeats on a timer whatever the trainer prints,
 * so a short heartbeat timeout is safe, and a dead worker is noticed within it; the retry then
 * resumes from the checkpoint in the last heartbeat.
 */
export const trainActivity: ActivityOptions = {
  taskQueue: taskQueues.gpu,
  startToCloseTimeout: '48 hours',
  heartbeatTimeout: '20 seconds',
  cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
  retry: gpuRetry,
};

/** Feature extraction and metrics (onnxruntime, CPU or CUDA); features are cached, so a retry is cheap. */
export const evaluateActivity: ActivityOptions = {
  startToCloseTimeout: '12 hours',
  heartbeatTimeout: '30 seconds',
  retry: { initialInterval: '2 seconds', backoffCoefficient: 2, maximumInterval: '1 minute', maximumAttempts: 3, nonRetryableErrorTypes },
};

/** The run's HTML report: reads DuckDB, MLflow and the blob store, makes thumbnails; heartbeats on a timer. */
export const reportActivity: ActivityOptions = {
  startToCloseTimeout: '30 minutes',
  heartbeatTimeout: '30 seconds',
  retry: { initialInterval: '2 seconds', backoffCoefficient: 2, maximumInterval: '30 seconds', maximumAttempts: 3, nonRetryableErrorTypes },
};

/** Batch generation on a GPU worker; a retry skips the images already written. */
export const generateActivity: ActivityOptions = { ...trainActivity, startToCloseTimeout: '24 hours' };
