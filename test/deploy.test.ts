/**
 * Offline checks of what ships the service (no Docker engine or cluster here): the Dockerfile,
 * the compose files, the monitoring configuration and the Kubernetes manifests are parsed and
 * checked against the code (config loaders, routes, package.json scripts, Redis key names);
 * then the images' start and health commands are run natively against a private Redis.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { createInterface } from 'node:readline';
import { parse, parseAllDocuments } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freeLoopbackPort } from '../common/free-port.ts';
import { isSupportedRedisVersion } from '../common/redis-version.ts';
import { createRedisKeys, QueueName } from '../schema/src/redis-keys.ts';
import { ENV_VARIABLES as SERVER_VARIABLES, loadConfig as loadServerConfig } from '../server/config.ts';
import { createHealthRoutes } from '../server/http/health-routes.ts';
import type { HealthService } from '../server/services/health-service.ts';
import { ENV_VARIABLES as WORKER_VARIABLES, loadConfig as loadWorkerConfig } from '../worker/config.ts';
import { watchErrors } from './support/error-watch.ts';
import { useSystem } from './support/fixtures.ts';
import { runtimeImports } from './support/runtime-imports.ts';
import { waitFor } from './support/wait-for.ts';

const ROOT = join(import.meta.dirname, '..');
const read = (path: string) => readFileSync(join(ROOT, path), 'utf8');
const packageJson = JSON.parse(read('package.json')) as { scripts: Record<string, string>; dependencies: Record<string, string> };
const scripts = packageJson.scripts;

const serverVariables = new Set(SERVER_VARIABLES);
const workerVariables = new Set(WORKER_VARIABLES);

/** The metric names the dashboard may use: every one is served by /metrics (checked below). */
const METRICS = [
  'atf_tasks_submitted_total',
  'atf_tasks_completed_total',
  'atf_tasks_failed_total',
  'atf_queue_depth',
  'atf_tasks_in_state',
  'atf_task_duration_seconds',
  'atf_task_wait_seconds',
  'atf_provider_call_duration_seconds',
  'atf_circuit_state',
  'atf_ws_connections',
  'atf_ws_subscriptions',
  'atf_stale_lease_rejections_total',
  'atf_output_chunks_total',
  'atf_output_bytes_total',
  'atf_llm_tokens_total',
  'atf_llm_cost_usd_total',
  'atf_dispatch_waiting',
  'atf_dispatch_starts_total',
  'atf_dispatch_tokens_started_total',
  'atf_dispatch_wait_seconds',
  'atf_dispatch_tokens_reserved_total',
  'atf_model_breaker_state',
  'atf_model_calls_total',
  'atf_llm_estimated_cost_usd_total',
];

const probePaths = Object.keys(createHealthRoutes({} as HealthService));
const defaults = { server: loadServerConfig({}), worker: loadWorkerConfig({}) };

// --- Dockerfile -------------------------------------------------------------------------------

interface Stage {
  name: string;
  from: string;
  instructions: { op: string; args: string }[];
}

function parseDockerfile(text: string): { args: Record<string, string>; stages: Stage[] } {
  const args: Record<string, string> = {};
  const stages: Stage[] = [];
  const logical = text.replace(/\\\n\s*/g, ' ').split('\n').map((line) => line.trim()).filter((line) => line && !line.startsWith('#'));
  for (const line of logical) {
    const [, op = '', rest = ''] = /^(\S+)\s*(.*)$/.exec(line) ?? [];
    const upper = op.toUpperCase();
    if (upper === 'FROM') {
      const [, from = '', name = ''] = /^(\S+)(?:\s+AS\s+(\S+))?$/i.exec(rest) ?? [];
      stages.push({ name, from: from.replace(/\$\{(\w+)\}/g, (_, key: string) => args[key] ?? ''), instructions: [] });
    } else if (upper === 'ARG' && stages.length === 0) {
      const [key, value = ''] = rest.split('=');
      args[key!] = value;
    } else {
      stages.at(-1)?.instructions.push({ op: upper, args: rest });
    }
  }
  return { args, stages };
}

const dockerfile = parseDockerfile(read('Dockerfile'));
const stage = (name: string) => dockerfile.stages.find((s) => s.name === name)!;
/** The instructions a stage inherits from its parents, then its own. */
const chain = (name: string): Stage[] => {
  const own = stage(name);
  const parent = dockerfile.stages.find((s) => s.name === own.from);
  return parent ? [...chain(parent.name), own] : [own];
};
const last = (name: string, op: string) => chain(name).flatMap((s) => s.instructions).filter((i) => i.op === op).at(-1);
const execForm = (args: string) => JSON.parse(args.replace(/^\[/, '[').trim()) as string[];
const healthcheckCommand = (name: string) => execForm(last(name, 'HEALTHCHECK')!.args.replace(/^.*?CMD\s+/, ''));
const copies = (name: string) => chain(name).flatMap((s) => s.instructions).filter((i) => i.op === 'COPY').map((i) => i.args);
/** Whether a COPY from the build context puts `file` (a repository path) at the same path under WORKDIR in `image`. */
const copiedInto = (image: string, file: string) =>
  copies(image)
    .filter((args) => !args.startsWith('--from'))
    .some((args) => {
      const parts = args.split(/\s+/);
      const destination = parts.at(-1)!;
      return parts.slice(0, -1).some((source) => (file === source || file.startsWith(`${source}/`)) && (destination === `./${source}` || (destination === './' && !source.includes('/'))));
    });
const dockerignored = read('.dockerignore').split('\n').map((line) => line.trim()).filter((line) => line && !line.startsWith('#') && !line.includes('*'));
/** The entry file a `node --import tsx <entry>` command runs. */
const entryOf = (command: string[]) => command.at(-1)!;
/** The API-key commands docs/api.md offers for containers, with what runs them (compose, kubectl) cut off. */
const containerKeyCommands = [...read('docs/api.md').matchAll(/^\s*(?:docker compose exec server|kubectl .*exec deploy\/atf-server --) (.+)$/gm)].map((match) => match[1]!);

describe('Dockerfile', () => {
  it('is multi-stage: npm ci then build, production dependencies only in the images', () => {
    expect(dockerfile.stages.map((s) => s.name)).toEqual(expect.arrayContaining(['deps', 'build', 'server', 'worker']));
    const build = stage('build').instructions.map((i) => i.args);
    expect(build.findIndex((a) => a.startsWith('npm ci'))).toBeLessThan(build.findIndex((a) => a === 'npm run build'));
    expect(stage('deps').instructions.some((i) => i.op === 'RUN' && /npm ci .*--omit=dev/.test(i.args))).toBe(true);
    for (const image of ['server', 'worker']) {
      const runs = chain(image).flatMap((s) => s.instructions);
      // node_modules come only from the deps stage; nothing installs dev dependencies here.
      expect(runs.filter((i) => i.op === 'RUN' && /npm (ci|install)/.test(i.args))).toEqual([]);
      expect(runs.some((i) => i.op === 'COPY' && i.args === '--from=deps /app/node_modules ./node_modules')).toBe(true);
    }
  });

  it('builds on a current Node LTS and runs as a non-root user with a HEALTHCHECK', () => {
    for (const s of dockerfile.stages.filter((s) => !dockerfile.stages.some((p) => p.name === s.from))) {
      const major = Number(/^node:(\d+)/.exec(s.from)?.[1]);
      expect(major % 2, `${s.from} is an LTS line`).toBe(0);
      expect(major).toBeGreaterThanOrEqual(22);
    }
    for (const image of ['server', 'worker']) {
      expect(last(image, 'USER')?.args).toMatch(/^(?!root$|0$)\w+$/);
      expect(last(image, 'HEALTHCHECK')).toBeDefined();
    }
  });

  it('starts each image with its package.json script, and copies what the code needs', () => {
    expect(execForm(last('server', 'CMD')!.args).join(' ')).toBe(scripts['start:server']);
    expect(execForm(last('worker', 'CMD')!.args).join(' ')).toBe(scripts['start:worker']);
    expect(last('server', 'EXPOSE')!.args).toBe(String(defaults.server.port));
    for (const copy of dockerfile.stages.flatMap((s) => s.instructions).filter((i) => i.op === 'COPY' && !i.args.startsWith('--from'))) {
      for (const source of copy.args.split(/\s+/).slice(0, -1)) expect(existsSync(join(ROOT, source)), source).toBe(true);
    }
    // The ENV names the images set are read by the process they run.
    for (const [image, known] of [['server', serverVariables], ['worker', workerVariables]] as const) {
      for (const env of chain(image).flatMap((s) => s.instructions).filter((i) => i.op === 'ENV')) {
        for (const name of env.args.split(/\s+/).map((pair) => pair.split('=')[0]!)) expect(known.has(name), `${image}: ${name}`).toBe(true);
      }
    }
  });
});

describe('what the images carry', () => {
  // What runs where: each image's CMD, and `npm run keys` in the server image (docs/api.md).
  const commands: [image: string, entry: string][] = [
    ['server', entryOf(execForm(last('server', 'CMD')!.args))],
    ['worker', entryOf(execForm(last('worker', 'CMD')!.args))],
    ['server', entryOf(scripts.keys!.split(' '))],
  ];

  it.each(commands)('the %s image holds every file %s loads, and the packages it loads are production dependencies', (image, entry) => {
    const { files, packages } = runtimeImports(ROOT, entry);
    for (const file of files) {
      expect(copiedInto(image, file), `${file} (loaded by ${entry}) copied into the ${image} image`).toBe(true);
      for (const ignored of dockerignored) expect(file === ignored || file.startsWith(`${ignored}/`), `${file} is in .dockerignore`).toBe(false);
    }
    // The deps stage installs `dependencies` only (npm ci --omit=dev); tsx runs the sources.
    for (const name of [...packages, 'tsx']) expect(Object.keys(packageJson.dependencies), `${name} (loaded by ${entry})`).toContain(name);
  });

  it('ships the built web app and GraphiQL where the server looks for them (GraphiQL with GRAPHIQL=true)', async () => {
    for (const [app, served] of [
      ['client', defaults.server.clientDistDir!],
      ['graphiql', loadServerConfig({ GRAPHIQL: 'true' }).graphiqlDistDir!],
    ] as const) {
      const { default: vite } = (await import(`../${app}/vite.config.ts`)) as { default: { root: string; build: { outDir: string } } };
      const built = relative(ROOT, join(vite.root, vite.build.outDir));
      expect(scripts.build, app).toContain(`--config ${app}/vite.config.ts`);
      expect(relative(ROOT, served), `${app}: where the server looks is where the build writes`).toBe(built);
      expect(copies('server'), app).toContain(`--from=build /app/${built} ./${built}`);
    }
    expect(last('build', 'WORKDIR')?.args).toBe('/app');
    expect(stage('build').instructions.some((i) => i.op === 'RUN' && i.args === 'npm run build')).toBe(true);
  });

  it('offers, for containers, the API-key command package.json runs, in the server image of compose and Kubernetes', () => {
    expect(containerKeyCommands).toHaveLength(2);
    for (const command of containerKeyCommands) expect(command.startsWith(`${scripts.keys} `), command).toBe(true);
    expect(compose.services.server!.build?.target).toBe('server');
    expect(container('atf-server').image).toMatch(/asynctaskflow-server/);
  });
});

// --- compose ------------------------------------------------------------------------------------

interface ComposeService {
  image?: string;
  build?: { context: string; target: string };
  command?: string[];
  environment?: Record<string, string>;
  env_file?: { path: string }[];
  ports?: string[];
  healthcheck?: { test: string[]; disable?: boolean };
  depends_on?: Record<string, { condition: string }>;
  volumes?: string[];
  deploy?: { replicas: string | number };
  stop_grace_period?: string;
}
const compose = parse(read('docker-compose.yml')) as { services: Record<string, ComposeService>; volumes: Record<string, unknown> };
const monitoring = parse(read('docker-compose.monitoring.yml')) as { services: Record<string, ComposeService> };
/** The services `docker compose -f docker-compose.yml -f docker-compose.monitoring.yml` runs: the overlay merged in as compose merges it. */
const merged: Record<string, ComposeService> = { ...compose.services };
for (const [name, overlay] of Object.entries(monitoring.services)) {
  const base = merged[name];
  merged[name] = base
    ? { ...base, ...overlay, environment: { ...base.environment, ...overlay.environment }, depends_on: { ...base.depends_on, ...overlay.depends_on } }
    : overlay;
}
const seconds = (value: string) => Number(/^(\d+)s$/.exec(value)?.[1]);

describe('docker-compose.yml', () => {
  it('runs redis, server and worker, each with a healthcheck, each waiting for what it needs to be healthy', () => {
    expect(Object.keys(compose.services).sort()).toEqual(['redis', 'server', 'worker']);
    for (const [name, service] of Object.entries(merged)) {
      expect(service.healthcheck?.test?.length, `${name} healthcheck`).toBeGreaterThan(0);
      expect(service.healthcheck?.disable, name).toBeUndefined();
      for (const [dependency, rule] of Object.entries(service.depends_on ?? {})) expect(rule.condition, `${name} -> ${dependency}`).toBe('service_healthy');
    }
    expect(Object.keys(compose.services.server!.depends_on!)).toContain('redis');
    expect(Object.keys(compose.services.worker!.depends_on!)).toContain('redis');
  });

  it('gives Redis AOF everysec, noeviction and a volume', () => {
    const redis = compose.services.redis!;
    expect(redis.image).toMatch(/^redis:\d/);
    expect(isSupportedRedisVersion(/^redis:([\d.]+)/.exec(redis.image!)![1]!), `${redis.image} is new enough`).toBe(true);
    const command = redis.command!.join(' ');
    expect(command).toContain('--appendonly yes');
    expect(command).toContain('--appendfsync everysec');
    expect(command).toContain('--maxmemory-policy noeviction');
    const [volume] = redis.volumes![0]!.split(':');
    expect(compose.volumes).toHaveProperty(volume!);
  });

  it('builds the Dockerfile targets, publishes the server port, scales workers by WORKER_REPLICAS', () => {
    const { server, worker } = compose.services as Record<string, ComposeService>;
    for (const [service, target] of [[server!, 'server'], [worker!, 'worker']] as const) {
      expect(service.build?.target).toBe(target);
      expect(dockerfile.stages.some((s) => s.name === target)).toBe(true);
      expect(service.env_file?.[0]?.path).toBe('.env');
    }
    expect(existsSync(join(ROOT, '.env.example'))).toBe(true);
    // Published on the host's loopback unless PUBLISH_ADDRESS says otherwise (anonymous until API_KEYS are set).
    expect(server!.ports).toEqual([`\${PUBLISH_ADDRESS:-127.0.0.1}:\${PORT:-8000}:${server!.environment!.PORT}`]);
    expect(worker!.deploy!.replicas).toBe('${WORKER_REPLICAS:-3}');
    expect(worker!.environment!.WORKER_CONCURRENCY).toBe(`\${WORKER_CONCURRENCY:-${defaults.worker.concurrency}}`);
    // Docker waits longer than the worker's grace before SIGKILL.
    expect(seconds(worker!.stop_grace_period!) * 1000).toBeGreaterThan(Number(worker!.environment!.SHUTDOWN_GRACE_MS));
    expect(seconds(server!.stop_grace_period!) * 1000).toBeGreaterThan(Number(server!.environment!.SHUTDOWN_DELAY_MS) + Number(server!.environment!.SHUTDOWN_GRACE_MS));
  });

  it('passes only variables the config loaders read', () => {
    for (const name of Object.keys(compose.services.server!.environment!)) expect(serverVariables.has(name), `server: ${name}`).toBe(true);
    for (const name of Object.keys(compose.services.worker!.environment!)) expect(workerVariables.has(name), `worker: ${name}`).toBe(true);
    expect(() => loadServerConfig(compose.services.server!.environment!)).not.toThrow();
    expect(() => loadWorkerConfig({ ...compose.services.worker!.environment!, WORKER_CONCURRENCY: '4' })).not.toThrow();
  });
});

describe('monitoring', () => {
  it('sends the server and workers traces to the collector, and the collector to Jaeger (docs/observability.md)', () => {
    for (const name of ['server', 'worker']) {
      const environment = monitoring.services[name]!.environment!;
      expect(environment.OTEL_EXPORTER_OTLP_ENDPOINT, name).toBe('http://otel-collector:4318');
      for (const variable of Object.keys(environment)) expect((name === 'server' ? serverVariables : workerVariables).has(variable), `${name}: ${variable}`).toBe(true);
    }
    expect(() => loadServerConfig({ ...merged.server!.environment!, TRACE_URL_TEMPLATE: 'http://localhost:16686/trace/{traceId}' })).not.toThrow();
    const collector = parse(read('deploy/monitoring/otel-collector/config.yaml')) as {
      receivers: { otlp: { protocols: { http: { endpoint: string } } } };
      exporters: Record<string, { endpoint: string }>;
      service: { pipelines: { traces: { receivers: string[]; exporters: string[] } } };
    };
    expect(collector.receivers.otlp.protocols.http.endpoint).toMatch(/:4318$/);
    const [exporter] = collector.service.pipelines.traces.exporters;
    expect(collector.exporters[exporter!]!.endpoint).toBe('jaeger:4317');
    expect(monitoring.services.jaeger!.ports).toContain('16686:16686');
    expect(read('deploy/monitoring/grafana/provisioning/datasources/jaeger.yml')).toContain('http://jaeger:16686');
  });

  const prometheus = parse(read('deploy/monitoring/prometheus.yml')) as { scrape_configs: { metrics_path: string; static_configs: { targets: string[] }[] }[] };
  const dashboard = JSON.parse(read('deploy/monitoring/grafana/dashboards/asynctaskflow.json')) as { uid: string; panels: { title: string; targets: { expr: string }[] }[] };

  it('mounts files that exist, and Prometheus scrapes the server /metrics on its port', () => {
    for (const service of Object.values(monitoring.services)) {
      for (const volume of service.volumes ?? []) {
        const [source] = volume.split(':');
        if (source!.startsWith('./')) expect(existsSync(join(ROOT, source!)), source).toBe(true);
      }
    }
    const [job] = prometheus.scrape_configs;
    expect(job!.metrics_path).toBe('/metrics');
    expect(job!.static_configs[0]!.targets).toEqual([`server:${compose.services.server!.environment!.PORT}`]);
  });

  it('has a dashboard for queue depths, throughput, latency, error classes and breakers, on the agreed metric names', () => {
    const expressions = dashboard.panels.flatMap((panel) => panel.targets.map((target) => target.expr));
    const used = new Set(expressions.flatMap((expr) => expr.match(/\batf_\w+/g) ?? []).map((name) => name.replace(/_(bucket|sum|count)$/, '')));
    for (const name of used) expect(METRICS, name).toContain(name);
    const served = read('server/http/metrics.ts');
    for (const name of METRICS) expect(served, `${name} served by /metrics`).toContain(`'${name}'`);
    for (const name of ['atf_queue_depth', 'atf_tasks_completed_total', 'atf_task_duration_seconds', 'atf_tasks_failed_total', 'atf_circuit_state', 'atf_model_breaker_state']) {
      expect(used.has(name), name).toBe(true);
    }
  });
});

// --- Kubernetes -----------------------------------------------------------------------------------

interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; labels?: Record<string, string> };
  data?: Record<string, string>;
  spec?: Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
}

const k8sFiles = (dir: string): string[] =>
  readdirSync(dir).flatMap((entry) => {
    const path = join(dir, entry);
    return statSync(path).isDirectory() ? k8sFiles(path) : path.endsWith('.yaml') ? [path] : [];
  });
const manifests = k8sFiles(join(ROOT, 'deploy', 'k8s')).flatMap((file) =>
  parseAllDocuments(readFileSync(file, 'utf8')).map((doc) => {
    if (doc.errors.length > 0) throw new Error(`${file}: ${doc.errors.join(', ')}`);
    return { file: relative(ROOT, file), object: doc.toJS() as K8sObject };
  }),
);
const objects = manifests.map((m) => m.object).filter((o) => o.kind !== 'Kustomization');
const find = (kind: string, name: string) => objects.find((o) => o.kind === kind && o.metadata.name === name)!;
const container = (deployment: string) => find('Deployment', deployment).spec!.template.spec.containers[0];
const envNames = (deployment: string) => [
  ...(container(deployment).env ?? []).map((e: { name: string }) => e.name),
  ...Object.keys(find('ConfigMap', 'atf-config').data!),
];

describe('Kubernetes manifests', () => {
  it('parse, and every object has apiVersion, kind and a name; the kustomization lists files that exist', () => {
    expect(objects.length).toBeGreaterThan(5);
    for (const { file, object } of manifests) {
      expect(object.apiVersion, file).toBeTruthy();
      expect(object.kind, file).toBeTruthy();
      if (object.kind !== 'Kustomization') expect(object.metadata?.name, file).toMatch(/^[a-z0-9-]+$/);
    }
    const kustomization = manifests.find((m) => m.object.kind === 'Kustomization')!.object as unknown as { resources: string[] };
    for (const resource of kustomization.resources) expect(existsSync(join(ROOT, 'deploy', 'k8s', resource)), resource).toBe(true);
  });

  it('deploys server and worker with matching selectors, resource requests and a PodDisruptionBudget each', () => {
    for (const name of ['atf-server', 'atf-worker']) {
      const deployment = find('Deployment', name);
      const labels = deployment.spec!.template.metadata.labels as Record<string, string>;
      expect(labels).toMatchObject(deployment.spec!.selector.matchLabels);
      expect(container(name).resources.requests).toMatchObject({ cpu: expect.any(String), memory: expect.any(String) });
      expect(deployment.spec!.template.spec.securityContext.runAsNonRoot).toBe(true);
      const pdb = objects.find((o) => o.kind === 'PodDisruptionBudget' && Object.entries(o.spec!.selector.matchLabels).every(([k, v]) => labels[k] === v));
      expect(pdb, `${name} PodDisruptionBudget`).toBeDefined();
    }
  });

  it('wires the server probes to its real routes and port, and the Service to the named port', () => {
    const server = container('atf-server');
    expect(server.livenessProbe.httpGet.path).toBe('/live');
    expect(server.readinessProbe.httpGet.path).toBe('/ready');
    expect(server.startupProbe).toBeDefined();
    for (const probe of [server.livenessProbe, server.readinessProbe, server.startupProbe]) {
      expect(probePaths).toContain(probe.httpGet.path);
      expect(server.ports.find((p: { name: string }) => p.name === probe.httpGet.port).containerPort).toBe(Number(server.env.find((e: { name: string }) => e.name === 'PORT').value));
    }
    const service = find('Service', 'atf-server');
    expect(service.spec!.selector).toEqual(find('Deployment', 'atf-server').spec!.selector.matchLabels);
    expect(server.ports.map((p: { name: string }) => p.name)).toContain(service.spec!.ports[0].targetPort);
    const worker = container('atf-worker');
    expect(worker.livenessProbe.exec.command.join(' ')).toContain(worker.env.find((e: { name: string }) => e.name === 'WORKER_LIVENESS_FILE').value);
  });

  it('passes only variables the loaders read, and gives pods longer than their shutdown grace', () => {
    for (const name of envNames('atf-server')) expect(serverVariables.has(name), `server: ${name}`).toBe(true);
    for (const name of envNames('atf-worker')) expect(workerVariables.has(name), `worker: ${name}`).toBe(true);
    for (const [name, budget] of [['atf-server', ['SHUTDOWN_DELAY_MS', 'SHUTDOWN_GRACE_MS']], ['atf-worker', ['SHUTDOWN_GRACE_MS']]] as const) {
      const env = container(name).env as { name: string; value?: string }[];
      const needMs = budget.reduce((sum, key) => sum + Number(env.find((e) => e.name === key)!.value), 0);
      expect(find('Deployment', name).spec!.template.spec.terminationGracePeriodSeconds * 1000).toBeGreaterThan(needMs);
    }
  });

  it('mounts the provider key read-only into the worker only', () => {
    const worker = find('Deployment', 'atf-worker').spec!.template.spec;
    const volume = worker.volumes.find((v: { secret?: { secretName: string } }) => v.secret?.secretName === 'atf-provider');
    const mount = worker.containers[0].volumeMounts.find((m: { name: string }) => m.name === volume.name);
    expect(mount.readOnly).toBe(true);
    const keyFile = worker.containers[0].env.find((e: { name: string }) => e.name === 'OPENROUTER_API_KEY_FILE').value as string;
    expect(keyFile.startsWith(`${mount.mountPath}/`)).toBe(true);
    expect(JSON.stringify(find('Deployment', 'atf-server'))).not.toContain('atf-provider');
    expect(JSON.stringify(find('Deployment', 'atf-server'))).not.toContain('OPENROUTER');
  });

  it('scales workers with KEDA on the waiting lists, by their real key names', () => {
    const scaled = find('ScaledObject', 'atf-worker');
    expect(scaled.spec!.scaleTargetRef.name).toBe('atf-worker');
    const keys = createRedisKeys(find('ConfigMap', 'atf-config').data!.REDIS_KEY_PREFIX);
    const lists = scaled.spec!.triggers.map((t: { metadata: { listName: string } }) => t.metadata.listName);
    expect(lists).toEqual([keys.beeQueueKey(QueueName.PRIMARY, 'waiting'), keys.beeQueueKey(QueueName.RETRY, 'waiting')]);
  });
});

// --- the images' commands, run natively ---------------------------------------------------------------

describe('the images\' start and health commands, run natively', () => {
  // Redis only: the server and worker are the images' own commands.
  const system = useSystem({ server: false });
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'atf-deploy-'));
  });
  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  const launch = (command: string[], env: Record<string, string>) => {
    const child = spawn(command[0]!, command.slice(1), { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    watchErrors(`${command.join(' ')} process`, child);
    const lines: string[] = [];
    for (const stream of [child.stdout, child.stderr]) createInterface({ input: stream }).on('line', (line) => lines.push(line));
    const exited = new Promise<number | string>((resolve) => child.once('exit', (code, signal) => resolve(code ?? signal ?? -1)));
    return { child, lines, exited };
  };
  /** The image's ENV lines as a map. */
  const imageEnv = (image: string) =>
    Object.fromEntries(chain(image).flatMap((s) => s.instructions).filter((i) => i.op === 'ENV').flatMap((i) => i.args.split(/\s+/).map((pair) => pair.split('=') as [string, string])));

  it('server and worker start with the compose environment, pass their health checks, and stop on SIGTERM', { timeout: 60_000 }, async () => {
    const port = await freeLoopbackPort();
    const liveness = join(dir, 'alive');
    // On loopback and a free port: the machine is shared. Redis is the test's own.
    const serverEnv = { ...imageEnv('server'), ...compose.services.server!.environment!, REDIS_URL: system.redis.url, HOST: '127.0.0.1', PORT: String(port), SERVE_CLIENT: 'false', SHUTDOWN_DELAY_MS: '0' };
    const workerEnv = { ...imageEnv('worker'), ...compose.services.worker!.environment!, REDIS_URL: system.redis.url, WORKER_CONCURRENCY: '2', WORKER_LIVENESS_FILE: liveness };
    const server = launch(execForm(last('server', 'CMD')!.args), serverEnv);
    const worker = launch(execForm(last('worker', 'CMD')!.args), workerEnv);
    try {
      await waitFor(async () => (await fetch(`http://127.0.0.1:${port}/ready`)).ok, { timeoutMs: 30_000, intervalMs: 200, message: 'the server image command to be ready' });
      await waitFor(() => existsSync(liveness), { timeoutMs: 30_000, message: 'the worker liveness file' });

      const portOf = (command: string[]) => command.map((part) => part.replaceAll(':8000/', `:${port}/`).replaceAll("||8000", `||${port}`));
      const run = (command: string[], env: Record<string, string>) => spawnSync(command[0]!, command.slice(1), { env: { ...process.env, ...env }, encoding: 'utf8', timeout: 20_000 }).status;
      // Dockerfile HEALTHCHECKs.
      expect(run(portOf(healthcheckCommand('server')), { PORT: String(port) })).toBe(0);
      expect(run(healthcheckCommand('worker'), { WORKER_LIVENESS_FILE: liveness })).toBe(0);
      // compose healthchecks (CMD-SHELL through sh; $$ is compose's escape for $).
      const composeCheck = (test: string[]) => (test[0] === 'CMD-SHELL' ? ['sh', '-c', test[1]!.replaceAll('$$', '$')] : test.slice(1));
      expect(run(portOf(composeCheck(compose.services.server!.healthcheck!.test)), {})).toBe(0);
      expect(run(composeCheck(compose.services.worker!.healthcheck!.test).map((p) => p.replaceAll('/tmp/atf-worker-alive', liveness)), {})).toBe(0);
      expect(run(container('atf-worker').livenessProbe.exec.command.map((p: string) => p.replaceAll('/tmp/atf-worker-alive', liveness)), {})).toBe(0);
    } finally {
      server.child.kill('SIGTERM');
      worker.child.kill('SIGTERM');
    }
    expect(await server.exited).toBe(0);
    expect(await worker.exited).toBe(0);
    // JSON logs, as the images set LOG_FORMAT=json.
    expect(() => JSON.parse(server.lines[0]!)).not.toThrow();
  });

  it('the API-key command docs/api.md offers for compose creates a key with the server container\'s environment', async () => {
    const command = containerKeyCommands[0]!.split(' ');
    const keys = launch(command, { ...imageEnv('server'), ...compose.services.server!.environment!, REDIS_URL: system.redis.url, REDIS_KEY_PREFIX: system.prefix });
    expect(await keys.exited, keys.lines.join('\n')).toBe(0);
    expect(keys.lines.join('\n')).toMatch(/^created k_[0-9a-f]{16} for tenant acme/m);
  });
});

// --- README ---------------------------------------------------------------------------------------

describe('README', () => {
  // The README links to docs/; the deployment guide and the configuration table live there.
  const deployment = read('docs/deployment.md');

  it('has a Deployment page an operator can follow: compose, scaling, Kubernetes, Sentinel, monitoring', () => {
    const headings = deployment.split('\n').filter((line) => line.startsWith('#'));
    expect(headings[0]).toBe('# Deployment');
    for (const heading of ['## Docker Compose', '## Scaling workers', '## Kubernetes', '## Redis with Sentinel', '## Monitoring']) expect(headings).toContain(heading);
    expect(deployment).toContain('cp .env.example .env');
    expect(deployment).toContain('docker compose up -d');
    expect(deployment).toContain('kubectl apply -k deploy/k8s');
    // Every file it points to exists.
    for (const [, path] of deployment.matchAll(/`((?:deploy|test|common)\/[\w./-]+|docker-compose[\w.]*\.yml|Dockerfile)`/g)) {
      expect(existsSync(join(ROOT, path!)), path).toBe(true);
    }
  });

  it('documents every variable the processes read in the configuration table (docs/configuration.md)', () => {
    // The rows of the table only: a variable named in the prose around it does not count.
    const table = read('docs/configuration.md').split('\n').filter((line) => line.startsWith('| `')).join('\n');
    for (const name of new Set([...SERVER_VARIABLES, ...WORKER_VARIABLES])) expect(table, name).toContain(`\`${name}\``);
  });
});
