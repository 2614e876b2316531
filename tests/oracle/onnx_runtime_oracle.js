// onnx_runtime_oracle.js — ONNX Runtime (npm onnxruntime-node, its CPU execution provider) as the oracle for
// `accent export` (tests/unit/cli_export_test.cpp): it loads an exported onnx/model.onnx (with its external data,
// if any) and runs it on batches of token ids, the way a deployment (ONNX Runtime, transformers.js, Triton's
// onnxruntime backend) would.
//
//   node onnx_runtime_oracle.js JOB.json
//     JOB = {"model": PATH, "batches": [{"input_ids": [[..]], "attention_mask": [[..]], "token_type_ids": [[..]]}]}
//     (rows of one batch have the same length; token_type_ids is fed only when the graph has that input)
//   prints {"input_names": [...], "output_names": [...], "ort_version": V,
//           "batches": [{"dims": [B, C], "logits": [[..], ..]}]} on stdout.
// Exits non-zero (with the message) when the model does not load or a run fails.
'use strict';
const fs = require('fs');
const ort = require('onnxruntime-node');

async function main() {
  const job = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'));
  // One thread: the machines running the tests are shared; results do not depend on it.
  const session = await ort.InferenceSession.create(job.model, {
    executionProviders: ['cpu'], intraOpNumThreads: 1, interOpNumThreads: 1, graphOptimizationLevel: 'all'});
  const out = {input_names: session.inputNames, output_names: session.outputNames,
               ort_version: ort.env.versions.common, batches: []};
  for (const batch of job.batches) {
    const feeds = {};
    for (const name of session.inputNames) {
      const rows = batch[name];
      if (!rows) throw new Error(`the graph wants input ${name}, which the job does not give`);
      const B = rows.length, T = rows[0].length;
      const data = BigInt64Array.from(rows.flat().map((v) => BigInt(v)));
      feeds[name] = new ort.Tensor('int64', data, [B, T]);
    }
    const result = await session.run(feeds);
    const logits = result.logits;
    if (!logits) throw new Error('the graph has no output named logits');
    const [B, C] = logits.dims;
    const rows = [];
    for (let b = 0; b < B; ++b) rows.push(Array.from(logits.data.slice(b * C, (b + 1) * C)));
    out.batches.push({dims: logits.dims, logits: rows});
  }
  process.stdout.write(JSON.stringify(out) + '\n');
}

main().catch((e) => {
  process.stderr.write(`onnx_runtime_oracle: ${e.stack || e}\n`);
  process.exit(1);
});
