/**
 * GET /metrics: the Prometheus text format with the cluster-wide task counters and histograms
 * (kept by the task scripts and the workers in Redis), queue depths, breakers and this
 * process's WebSocket gauges; still answering while Redis is down.
 */
import { describe, expect, it } from 'vitest';
import { expectErrors, REDIS_OUTAGE_ERRORS, useSystem } from '../../test/support/fixtures.ts';
import { getTask, SAMPLE_TEXT, submitTask, subscribe, waitForTask } from '../../test/support/system.ts';
import { waitFor } from '../../test/support/wait-for.ts';

const system = useSystem({ worker: {} });

/** The value of one sample line (`name{labels} value`), or undefined. */
function sample(text: string, series: string): number | undefined {
  const line = text.split('\n').find((candidate) => candidate.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

const scrape = async () => {
  const response = await fetch(`${system.server.url}/metrics`);
  expect(response.status).toBe(200);
  expect(response.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
  return response.text();
};

describe('/metrics', () => {
  it('counts submissions, completions, transitions, waits and durations across the cluster', async () => {
    const ids = await Promise.all([1, 2, 3].map(async (n) => (await submitTask(system.server, `${SAMPLE_TEXT} Metric ${n}.`)).id));
    for (const id of ids) await waitForTask(system.server, id, 'COMPLETED');
    const client = system.wsClient();
    const watch = subscribe(client, 'subscription ($id: ID!) { taskUpdated(id: $id) { state } }', { id: ids[0] }, 'taskUpdated');
    await watch.waitFor(() => true);

    // Workers write their provider-call samples in batches, about once a second.
    let text = '';
    await waitFor(async () => sample((text = await scrape()), 'atf_provider_call_duration_seconds_count{status="ok"}') === 3, { message: 'the provider calls to be recorded' });
    expect(sample(text, 'atf_tasks_submitted_total{type="SUMMARIZE"}')).toBe(3);
    expect(sample(text, 'atf_tasks_completed_total{type="SUMMARIZE"}')).toBe(3);
    expect(sample(text, 'atf_task_transitions_total{state="ACTIVE"}')).toBe(3);
    expect(sample(text, 'atf_task_transitions_total{state="COMPLETED"}')).toBe(3);
    expect(sample(text, 'atf_tasks_failed_total{error_class="PROVIDER_ERROR"}')).toBe(0);
    expect(sample(text, 'atf_task_wait_seconds_count')).toBe(3);
    expect(sample(text, 'atf_task_wait_seconds_bucket{le="+Inf"}')).toBe(3);
    expect(sample(text, 'atf_task_duration_seconds_count')).toBe(3);
    expect(sample(text, 'atf_provider_call_duration_seconds_count{status="ok"}')).toBe(3);
    expect(sample(text, 'atf_tasks_in_state{state="COMPLETED"}')).toBe(3);
    expect(sample(text, 'atf_queue_depth{queue="primary"}')).toBe(0);
    expect(sample(text, 'atf_stale_lease_rejections_total')).toBe(0);
    // The dispatcher's view: every start by tenant and priority, nothing left waiting, the wait from submit to start.
    expect(sample(text, 'atf_dispatch_starts_total{tenant="default",priority="NORMAL"}')).toBe(3);
    expect(sample(text, 'atf_dispatch_waiting{tenant="default",priority="NORMAL"}')).toBe(0);
    expect(sample(text, 'atf_dispatch_tokens_started_total{tenant="default"}')).toBeGreaterThan(3 * 1024);
    expect(sample(text, 'atf_dispatch_wait_seconds_count')).toBe(3);
    expect(sample(text, 'atf_dispatch_tokens_reserved_total')).toBe(0);
    // The embedded summarizer streams its first sentence at once; the completion adds the rest.
    const results = await Promise.all(ids.map(async (id) => (await getTask(system.server, id))!.result!));
    expect(sample(text, 'atf_output_chunks_total')).toBe(6);
    expect(sample(text, 'atf_output_bytes_total')).toBe(results.reduce((sum, result) => sum + Buffer.byteLength(result), 0));
    expect(sample(text, `atf_circuit_state{worker="${system.worker.workerId}"}`)).toBe(0);
    expect(sample(text, 'atf_ws_connections')).toBe(1);
    expect(sample(text, 'atf_ws_subscriptions')).toBe(1);
    expect(sample(text, 'atf_ws_slow_subscribers_closed_total')).toBe(0);
    expect(sample(text, 'atf_redis_up')).toBe(1);
    expect(text).toMatch(/^# TYPE atf_task_duration_seconds histogram$/m);
    expect(text).toMatch(/^atf_server_process_cpu_seconds_total /m);
    // Buckets are cumulative.
    const buckets = text.split('\n').filter((line) => line.startsWith('atf_task_wait_seconds_bucket')).map((line) => Number(line.split(' ')[1]));
    expect(buckets).toEqual([...buckets].sort((a, b) => a - b));
    await client.dispose();
    await waitFor(async () => sample(await scrape(), 'atf_ws_connections') === 0, { message: 'the connection gauge to drop' });
  });

  it('keeps answering while Redis is down, without the cluster-wide series', async () => {
    const { redis } = system;
    expectErrors(REDIS_OUTAGE_ERRORS, 'Redis is stopped on purpose');
    await redis.stop();
    try {
      const text = await scrape();
      expect(sample(text, 'atf_redis_up')).toBe(0);
      expect(sample(text, 'atf_tasks_submitted_total{type="SUMMARIZE"}')).toBeUndefined();
      expect(text).not.toMatch(/ECONNREFUSED|127\.0\.0\.1/);
    } finally {
      await redis.start();
    }
    await waitFor(async () => sample(await scrape(), 'atf_redis_up') === 1, { message: 'metrics to recover' });
  });
});
