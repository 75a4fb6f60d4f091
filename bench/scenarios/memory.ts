/**
 * memory: the API server's resident memory per idle connected subscriber. A fresh server per
 * run; RSS with no connection, then with N graphql-ws connections each holding one
 * `taskUpdated` subscription (snapshot received), each read after the process settled.
 */
import type { Client } from 'graphql-ws';
import { processRssBytes } from '../../chaos/services.ts';
import type { Row } from '../lib/report.ts';
import { postGraphQL } from '../lib/measure.ts';
import { closeWsClients, openWsClients, startApiServer, type BenchSystem } from '../lib/system.ts';

const settle = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export async function benchMemory(system: BenchSystem): Promise<Row[]> {
  const connections = system.quick ? 100 : 1000;
  const idle: number[] = [];
  const perSubscriber: number[] = [];
  for (let rep = 0; rep < system.reps; rep += 1) {
    const api = await startApiServer(system);
    let clients: Client[] = [];
    try {
      const answer = await postGraphQL(api.url, JSON.stringify({ query: 'mutation { submitTask(input: {content: "Memory bench task."}) { id } }' }));
      const id = (answer.data!.submitTask as { id: string }).id;
      // Warm the code paths once, so lazy compilation is not counted per subscriber.
      const warm = await openWsClients(api.wsUrl, 5);
      await subscribeAll(warm, id);
      await closeWsClients(warm);
      await settle(system.quick ? 500 : 2500);
      const before = processRssBytes(api.service.pid);
      clients = await openWsClients(api.wsUrl, connections);
      await subscribeAll(clients, id);
      await settle(system.quick ? 500 : 2500);
      const after = processRssBytes(api.service.pid);
      idle.push(before / 1024 / 1024);
      perSubscriber.push((after - before) / connections / 1024);
      system.log(`memory rep ${rep + 1}: ${(before / 1024 / 1024).toFixed(1)} MB idle, ${((after - before) / connections / 1024).toFixed(1)} KB per subscriber`);
    } finally {
      await closeWsClients(clients);
      await api.stop();
    }
  }
  return [
    { scenario: 'memory', measure: 'server RSS, no connections', unit: 'MB', runs: idle },
    { scenario: 'memory', measure: `RSS per idle subscriber (${connections} connections)`, unit: 'KB', runs: perSubscriber, target: { on: 'value', op: '<=', value: 12 } },
  ];
}

/** One `taskUpdated(id)` per client; resolves once every snapshot arrived. */
function subscribeAll(clients: Client[], id: string): Promise<void> {
  return Promise.all(
    clients.map(
      (client) =>
        new Promise<void>((resolve, reject) => {
          client.subscribe({ query: 'subscription ($id: ID!) { taskUpdated(id: $id) { id state version } }', variables: { id } }, {
            next: () => resolve(),
            error: reject,
            complete: () => undefined,
          });
        }),
    ),
  ).then(() => undefined);
}
