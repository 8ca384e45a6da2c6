import { Connection } from '@temporalio/client';
import { namespace } from '../temporal.config.ts';

/** Temporal answers gRPC and knows the namespace the workers use. */
export async function temporalHealthy(address: string): Promise<boolean> {
  let connection: Connection | undefined;
  try {
    connection = await Connection.connect({ address, connectTimeout: '2 seconds' });
    const deadline = Date.now() + 3_000;
    await connection.withDeadline(deadline, () => connection!.workflowService.getSystemInfo({}));
    await connection.withDeadline(deadline, () => connection!.workflowService.describeNamespace({ namespace }));
    return true;
  } catch {
    return false;
  } finally {
    await connection?.close().catch(() => {});
  }
}

/** MLflow is up and its tracking store answers (the first start migrates the database). */
export async function mlflowHealthy(uri: string): Promise<boolean> {
  try {
    const base = uri.replace(/\/+$/, '');
    const health = await fetch(`${base}/health`, { signal: AbortSignal.timeout(3_000) });
    if (!health.ok) return false;
    const search = await fetch(`${base}/api/2.0/mlflow/experiments/search`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ max_results: 1 }),
      signal: AbortSignal.timeout(3_000),
    });
    return search.ok;
  } catch {
    return false;
  }
}
