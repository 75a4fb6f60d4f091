/**
 * `npm run bench` will measure the service against baselines taken in the same run (raw
 * bee-queue, raw graphql-ws), as ratios, because these machines are shared and noisy.
 * The scenarios arrive with the benchmark issue; until then this says so and exits 0,
 * rather than printing numbers nobody measured.
 */
console.log('npm run bench: no scenarios yet (they arrive with the benchmark work: submit, end-to-end, worker, fan-out, growth, memory, scale).');
