// A private cluster for fault tests (test/reliability) and their long mode (bench/reliability.ts):
// its own Temporal and MLflow servers (so they can be restarted and stopped without touching other
// tests), a cpu node and gpu nodes as `medsynth worker` processes, each in its own home and in a
// mount namespace where the other nodes' folders (and, for gpu nodes, the dataset) are hidden under
// an empty tmpfs: they share nothing but Temporal and MLflow, as separate machines would. Each node
// is its own process group, so a kill takes its trainer with it, like a machine going down.
import { execa, type ResultPromise } from 'execa';
import { mkdirSync } from 'node:fs';
import { mkdir, mkdtemp, rm, symlink } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { nodeDeps, type ActivityDeps } from '../../activities/index.ts';
import { servicesDown, servicesUp } from '../../services/index.ts';
import { startMlflow } from '../../services/mlflow-server.ts';
import { stopProcessGroup } from '../../services/processes.ts';
import { readServicesState, writeServicesState } from '../../services/services-state.ts';
import { startTemporal } from '../../services/temporal-server.ts';
import { resolvePaths, type Paths } from '../../settings.ts';
import { MlflowClient } from '../../tracking/mlflow-client.ts';
import { writeTinyDataset } from '../helpers/tiny-dataset.ts';
import { trainedExtractorDir } from '../metrics/helpers.ts';

const projectRoot = path.resolve(import.meta.dirname, '../..');

export interface Node {
  kind: 'cpu' | 'gpu';
  home: string;
  process: ResultPromise;
  /** run a shell command inside this node's mount namespace (to reach its private tmpfs) */
  exec: (command: string) => Promise<void>;
}

export interface NodeOptions {
  /** mount a tmpfs of this many MiB over the node's home (a small disk) */
  diskMiB?: number;
  /** gpu: activities at once (--slots) */
  slots?: number;
  /** MEDSYNTH_FAILPOINT (activities/failpoint.ts): the node SIGKILLs itself inside this activity, "<activity>:<ms>" */
  failpoint?: string;
}

export interface Cluster {
  root: string;
  temporalAddress: string;
  mlflowUri: string;
  client: Client;
  mlflow: MlflowClient;
  /** the cpu node's folders: DuckDB and the blob cache of the machine that records runs */
  paths: Paths;
  deps: ActivityDeps;
  /** the workflow (cpu) queue and the gpu queue of this cluster */
  queue: string;
  gpuQueue: string;
  /** a tiny class-folders dataset (4 images per class), seen by the cpu node only */
  dataRoot: string;
  /** the cpu node, in its home (a restarted cpu node comes back in the same home: its DuckDB is there) */
  cpu: (options?: NodeOptions) => Node;
  /** a gpu node in a new, empty home */
  gpu: (options?: NodeOptions) => Node;
  /** SIGKILL a node and everything it started */
  kill: (node: Node) => Promise<void>;
  restartTemporal: () => Promise<void>;
  /** stops the MLflow server for `ms`, then starts it again on the same port and store */
  stopMlflow: (ms: number) => Promise<void>;
  close: () => Promise<void>;
}

/**
 * `medsynth worker` as a node of its own: MEDSYNTH_HOME `home`, in a mount namespace (unshare -m)
 * where each `hidden` folder is an empty tmpfs (what another machine would not see), optionally
 * on a small disk of its own, as its own process group.
 */
export function spawnNode(o: { kind: 'cpu' | 'gpu'; home: string; hidden: readonly string[]; taskQueue: string; env: NodeJS.ProcessEnv } & NodeOptions): Node {
  const mounts = o.hidden.map((dir) => `mount -t tmpfs medsynth-hidden '${dir}' && `).join('');
  const disk = o.diskMiB ? `mount -t tmpfs -o size=${o.diskMiB}m medsynth-disk '${o.home}' && ` : '';
  const slots = o.slots ? ` --slots ${o.slots}` : '';
  const command = `${mounts}${disk}exec node '${path.join(projectRoot, 'bin/medsynth.mjs')}' worker --queue ${o.kind} --task-queue ${o.taskQueue}${slots}`;
  const child = execa('unshare', ['--mount', '--propagation', 'private', 'sh', '-c', command], {
    cwd: projectRoot,
    env: { ...o.env, MEDSYNTH_HOME: o.home, ...(o.failpoint ? { MEDSYNTH_FAILPOINT: o.failpoint } : {}) },
    reject: false,
    detached: true,
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  return {
    kind: o.kind,
    home: o.home,
    process: child,
    exec: async (shell) => void (await execa('nsenter', ['--target', String(child.pid), '--mount', 'sh', '-c', shell])),
  };
}

/** Starts the servers and prepares the folders; nodes are started by the caller. */
export async function startCluster(name: string): Promise<Cluster> {
  const root = await mkdtemp(path.join(os.tmpdir(), `medsynth-cluster-${name}-`));
  const stateDir = path.join(root, 'services');
  const cpuHome = path.join(root, 'cpu-home');
  await mkdir(cpuHome, { recursive: true });
  // the servers of this cluster only, whatever the environment names
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => k !== 'TEMPORAL_ADDRESS' && k !== 'MLFLOW_TRACKING_URI'));
  const services = await servicesUp({ stateDir, env });
  const paths = resolvePaths({ MEDSYNTH_HOME: cpuHome });
  await symlink(await trainedExtractorDir(), path.join(cpuHome, 'extractors'));
  const client = new Client({ connection: await Connection.connect({ address: services.temporalAddress }) });
  const mlflow = new MlflowClient(services.mlflowUri);
  const dataRoot = (await writeTinyDataset(4)).root;
  const queue = `reliability-${name}-${process.pid}-${Date.now()}`;
  const gpuQueue = `${queue}-gpu`;
  const gpuHomes: string[] = [];
  const nodes: Node[] = [];

  const startNode = (kind: 'cpu' | 'gpu', home: string, hidden: string[], options: NodeOptions = {}): Node => {
    const node = spawnNode({ kind, home, hidden, taskQueue: kind === 'cpu' ? queue : gpuQueue, env: { ...env, TEMPORAL_ADDRESS: services.temporalAddress, MLFLOW_TRACKING_URI: services.mlflowUri }, ...options });
    nodes.push(node);
    return node;
  };

  const kill = async (node: Node) => {
    try {
      process.kill(-node.process.pid!, 'SIGKILL');
    } catch {
      // already gone
    }
    await node.process;
  };

  async function restart(which: 'temporal' | 'mlflow', downMs: number): Promise<void> {
    const state = await readServicesState(stateDir);
    const record = state[which]!;
    await stopProcessGroup(record.pid, 2_000);
    await new Promise((r) => setTimeout(r, downMs));
    const started =
      which === 'temporal'
        ? { ...state, temporal: await startTemporal(stateDir, { port: state.temporal!.port, uiPort: state.temporal!.uiPort }, env) }
        : { ...state, mlflow: await startMlflow(stateDir, state.mlflow!.port, env) };
    await writeServicesState(stateDir, started);
  }

  return {
    root,
    temporalAddress: services.temporalAddress,
    mlflowUri: services.mlflowUri,
    client,
    mlflow,
    paths,
    deps: nodeDeps(paths, mlflow),
    queue,
    gpuQueue,
    dataRoot,
    cpu: (options) => startNode('cpu', cpuHome, [stateDir, ...gpuHomes], options),
    gpu: (options) => {
      const home = path.join(root, `gpu-home-${gpuHomes.length + 1}`);
      gpuHomes.push(home);
      mkdirSync(home, { recursive: true });
      return startNode('gpu', home, [stateDir, cpuHome, dataRoot, ...gpuHomes.filter((h) => h !== home)], options);
    },
    kill,
    restartTemporal: () => restart('temporal', 0),
    stopMlflow: (ms) => restart('mlflow', ms),
    close: async () => {
      await Promise.all(nodes.map(kill));
      await client.connection.close();
      await servicesDown(stateDir);
      await rm(root, { recursive: true, force: true });
      await rm(dataRoot, { recursive: true, force: true });
    },
  };
}
