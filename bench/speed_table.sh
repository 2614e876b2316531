#!/bin/bash
# bench/speed_table.sh BUILD_DIR [--layers L] [--steps K] [--quick] [--torch-fp32] [--multiple M] [--threads N]
#                                [--data DIR]
#
# Issue 4's speed table in one run, accent against the PyTorch twin (Debian /usr/bin/python3, torch 1.13) on the
# same bert-base-shaped model (random weights), 2 threads:
#   target 1  one training step, B=16 T=128 (train_step_bench / torch_step.py, as compare_precision.sh);
#   target 2  a real SST-2 epoch (8,000 rows, B=16, Trainer step with AdamW) in two recipes, pad-to-128 and
#             dynamic padding + group_by_length + pad_to_multiple_of 8 (epoch_bench / torch_epoch.py): K timed
#             steps each, on the same batches, plus the extrapolated epoch time;
#   target 3  inference on SST-2 dev at batch 32 (sorted by length, and in file order as HF's pipeline batches)
#             and one sentence at a time (infer_bench / torch_infer.py).
# Prints a Markdown table (and the load average before and after: the machine is shared, compare ratios within
# one run). Every METRIC line and log stays in the work directory printed at the end.
#   --layers L     encoder layers (default 12 = bert-base)
#   --steps K      timed epoch steps per recipe (default 8)
#   --multiple M   pad_to_multiple_of of the dynamic recipe (default 8; 1 = off)
#   --quick        smoke run: 2 layers, K=2, 1 timed training step, 20 latency sentences
#   --torch-fp32   also PyTorch fp32 (slow here, generic BLAS: ~500 s per bert-base T=128 step): 1 untimed-warm-up-
#                  free step of the dynamic epoch, 2 batches per inference batching, 10 latency sentences.
#                  PyTorch fp32 on the T=128 training step is not run (see compare_precision.sh / README).
# Total at bert-base without --torch-fp32: roughly 8–12 minutes on the 2-core machine.
set -euo pipefail
build=${1:?usage: speed_table.sh BUILD_DIR [--layers L] [--steps K] [--quick] [--torch-fp32] [--threads N] [--data DIR]}
shift
here=$(cd "$(dirname "$0")" && pwd)
layers=12 steps=8 step_steps=2 latency_n=200 threads=2 torch_fp32=0 quick=0 multiple=8
data=$(cd "$here/.." && pwd)/tests/data  # --data DIR: vocabularies and SST-2 (tests/data/SOURCES.md)
while [ $# -gt 0 ]; do
  case "$1" in
    --layers) layers=$2; shift 2 ;;
    --steps) steps=$2; shift 2 ;;
    --multiple) multiple=$2; shift 2 ;;
    --threads) threads=$2; shift 2 ;;
    --data) data=$2; shift 2 ;;
    --quick) quick=1; shift ;;
    --torch-fp32) torch_fp32=1; shift ;;
    *) echo "speed_table.sh: unknown option $1" >&2; exit 2 ;;
  esac
done
if [ "$quick" = 1 ]; then layers=2 steps=2 step_steps=1 latency_n=20; fi
for bin in train_step_bench epoch_bench infer_bench; do
  [ -x "$build/$bin" ] || { echo "speed_table.sh: $build/$bin not built (ninja -C $build $bin)" >&2; exit 2; }
done
py=/usr/bin/python3
work=$(mktemp -d "${TMPDIR:-/tmp}/accent-speed.XXXXXX")
metrics=$work/metrics.txt
: > "$metrics"
load_before=$(cut -d' ' -f1-3 /proc/loadavg)
start=$(date +%s)

# run NAME CMD...: runs CMD, keeps its output in $work/NAME.log, collects its METRIC lines, shows its RESULT lines.
run() {
  local name=$1; shift
  echo "== $name: $*" >&2
  "$@" > "$work/$name.log" 2>&1 || { echo "speed_table.sh: $name failed; see $work/$name.log" >&2; tail -20 "$work/$name.log" >&2; exit 1; }
  grep '^METRIC ' "$work/$name.log" | cut -d' ' -f2- >> "$metrics" || true
  grep 'RESULT' "$work/$name.log" >&2 || true
}
# metric KEY: its value, or empty.
metric() { awk -v k="$1" '$1 == k { v = $2 } END { if (v != "") print v }' "$metrics"; }
put() { echo "$1 $2" >> "$metrics"; }

# ---- target 1: the training step (train_step_bench / torch_step.py print RESULT lines, not METRIC) ----
common=(--threads "$threads" --layers "$layers")
run step_accent_bf16 "$build/train_step_bench" "${common[@]}" --seq 128 --steps "$step_steps" --precision bf16
run step_accent_fp32 "$build/train_step_bench" "${common[@]}" --seq 128 --steps "$step_steps" --precision fp32
run step_torch_bf16 "$py" "$here/torch_step.py" "${common[@]}" --seq 128 --steps "$step_steps" --autocast
for p in bf16 fp32; do
  put step.accent.$p.s_per_step "$(sed -n 's/^RESULT accent train [a-z]* [a-z0-9]*: mean \([0-9.]*\) s\/step.*/\1/p' "$work/step_accent_$p.log")"
done
put step.pytorch.bf16.s_per_step "$(sed -n 's/^RESULT pytorch bf16 autocast: mean \([0-9.]*\) s\/step.*/\1/p' "$work/step_torch_bf16.log")"

# ---- target 2: the SST-2 epoch, two recipes ----
for recipe in pad128 dynamic; do
  batches=$work/epoch_$recipe.safetensors
  # Unpadded execution's share: the same accent bf16 run with every layer on the padded rows (ACCENT_UNPADDED=0),
  # its metrics kept as accent_padded (the default run below then overrides the accent keys it also wrote).
  run epoch_${recipe}_accent_bf16_padded env ACCENT_UNPADDED=0 "$build/epoch_bench" "${common[@]}" --data "$data" \
    --recipe $recipe --steps "$steps" --multiple "$multiple" --precision bf16
  grep '^METRIC ' "$work/epoch_${recipe}_accent_bf16_padded.log" | cut -d' ' -f2- | sed 's/\.accent\./.accent_padded./' >> "$metrics"
  run epoch_${recipe}_accent_bf16 "$build/epoch_bench" "${common[@]}" --data "$data" --recipe $recipe \
    --steps "$steps" --multiple "$multiple" --precision bf16 --write-batches "$batches"
  run epoch_${recipe}_accent_fp32 "$build/epoch_bench" "${common[@]}" --data "$data" --recipe $recipe \
    --steps "$steps" --multiple "$multiple" --precision fp32
  run epoch_${recipe}_torch_bf16 "$py" "$here/torch_epoch.py" "${common[@]}" --batches "$batches" --recipe $recipe --autocast
  if [ "$torch_fp32" = 1 ] && [ $recipe = dynamic ]; then
    run epoch_${recipe}_torch_fp32 "$py" "$here/torch_epoch.py" "${common[@]}" --batches "$batches" --recipe $recipe \
      --steps 1 --warmup 0
  fi
done

# ---- target 3: inference ----
# bf16 then int8 in one process, so that their ratio compares the two in the same process (on this shared machine a
# process can run ~25% slower than the next one throughout, both precisions alike), and fp32 in its own. Each
# process's peak RSS is kept.
for p in bf16,int8 fp32; do
  name=infer_accent_${p/,/_}
  extra=(); [ $p = fp32 ] || extra=(--write-batches "$work/infer.safetensors")
  run $name "$build/infer_bench" "${common[@]}" --data "$data" --precision $p --latency-n "$latency_n" \
    ${extra[@]+"${extra[@]}"}
  put infer.accent.${p/,/_}.peak_rss_mib "$(awk '$1 == "METRIC" && $2 == "infer.accent.peak_rss_mib" { print $3 }' \
    "$work/$name.log")"
done
run infer_torch_bf16 "$py" "$here/torch_infer.py" "${common[@]}" --batches "$work/infer.safetensors" --autocast \
  --latency-n "$latency_n"
run infer_torch_int8 "$py" "$here/torch_infer.py" "${common[@]}" --batches "$work/infer.safetensors" --quantize-dynamic \
  --latency-n "$latency_n"
if [ "$torch_fp32" = 1 ]; then
  run infer_torch_fp32 "$py" "$here/torch_infer.py" "${common[@]}" --batches "$work/infer.safetensors" \
    --max-batches 2 --latency-n 10
fi
load_after=$(cut -d' ' -f1-3 /proc/loadavg)
elapsed=$(( $(date +%s) - start ))

# ---- the table ----
# fmt KEY DIGITS: the metric rounded, or "—" when not measured.
fmt() { local v; v=$(metric "$1"); if [ -n "$v" ]; then printf "%.${2}f" "$v"; else printf "—"; fi; }
# ratio NUM_KEY DEN_KEY: NUM/DEN as "1.23×", or "—".
ratio() {
  local n d; n=$(metric "$1"); d=$(metric "$2")
  if [ -n "$n" ] && [ -n "$d" ]; then awk -v n="$n" -v d="$d" 'BEGIN { if (d > 0) printf "%.2f×", n / d; else printf "—" }'
  else printf "—"; fi
}
epoch_cell() {  # examples/s (extrapolated epoch seconds)
  local r=$1 who=$2 p=$3 v
  v=$(metric "epoch.$r.$who.$p.examples_per_s")
  if [ -z "$v" ]; then printf "—"; return; fi
  printf "%.2f ex/s (epoch ≈ %.0f s)" "$v" "$(metric "epoch.$r.$who.$p.epoch_s_token_weighted")"
}
latency_cell() {
  local who=$1 p=$2
  [ -n "$(metric "latency.$who.$p.p50_ms")" ] || { printf "—"; return; }
  printf "%s / %s" "$(fmt "latency.$who.$p.p50_ms" 1)" "$(fmt "latency.$who.$p.p99_ms" 1)"
}
echo
echo "accent vs PyTorch $("$py" -c 'import torch; print(torch.__version__)' 2>/dev/null), bert-base shape with $layers layers, random weights, $threads threads; $(grep -m1 -o 'cpu: amx_bf16=[0-9] avx512_bf16=[0-9]' "$work/step_accent_bf16.log" || true)"
echo "load average before: $load_before; after: $load_after; wall time ${elapsed} s"
echo
echo "| | accent bf16 | PyTorch bf16 autocast | accent speed-up (bf16) | accent fp32 | PyTorch fp32 |"
echo "|---|---:|---:|---:|---:|---:|"
echo "| training step B=16 T=128 (s/step, target 1) | $(fmt step.accent.bf16.s_per_step 3) | $(fmt step.pytorch.bf16.s_per_step 3) | $(ratio step.pytorch.bf16.s_per_step step.accent.bf16.s_per_step) | $(fmt step.accent.fp32.s_per_step 3) | not run (~500 s/step) |"
for r in pad128 dynamic; do
  label="epoch pad-128"; [ $r = dynamic ] && label="epoch dynamic + grouped, multiple of $multiple"
  echo "| $label (examples/s over $steps steps; epoch extrapolated) | $(epoch_cell $r accent bf16) | $(epoch_cell $r pytorch bf16) | $(ratio epoch.$r.accent.bf16.examples_per_s epoch.$r.pytorch.bf16.examples_per_s) | $(epoch_cell $r accent fp32) | $(epoch_cell $r pytorch fp32) |"
  echo "| ↳ same, accent with its layers on padded rows too (\`ACCENT_UNPADDED=0\`) | $(epoch_cell $r accent_padded bf16) | | $(ratio epoch.$r.accent_padded.bf16.examples_per_s epoch.$r.pytorch.bf16.examples_per_s) | | |"
done
for b in sorted file; do
  label="inference batch 32, sorted by length (sentences/s)"; [ $b = file ] && label="inference batch 32, file order as HF pipeline (sentences/s)"
  echo "| $label | $(fmt infer.$b.accent.bf16.sentences_per_s 1) | $(fmt infer.$b.pytorch.bf16.sentences_per_s 1) | $(ratio infer.$b.accent.bf16.sentences_per_s infer.$b.pytorch.bf16.sentences_per_s) | $(fmt infer.$b.accent.fp32.sentences_per_s 1) | $(fmt infer.$b.pytorch.fp32.sentences_per_s 1) |"
done
echo "| latency, one sentence, p50 / p99 (ms) | $(latency_cell accent bf16) | $(latency_cell pytorch bf16) | $(ratio latency.pytorch.bf16.p50_ms latency.accent.bf16.p50_ms) (p50) | $(latency_cell accent fp32) | $(latency_cell pytorch fp32) |"
echo "| peak RSS, training epoch pad-128 (MiB) | $(fmt epoch.pad128.accent.bf16.peak_rss_mib 0) | $(fmt epoch.pad128.pytorch.bf16.peak_rss_mib 0) | $(ratio epoch.pad128.accent.bf16.peak_rss_mib epoch.pad128.pytorch.bf16.peak_rss_mib) (accent ÷ PyTorch) | $(fmt epoch.pad128.accent.fp32.peak_rss_mib 0) | — |"
echo "| peak RSS, inference (MiB) | $(fmt infer.accent.bf16_int8.peak_rss_mib 0) (bf16 and int8 in one process; fp32 alone $(fmt infer.accent.fp32.peak_rss_mib 0)) | $(fmt infer.pytorch.bf16.peak_rss_mib 0) | $(ratio infer.accent.bf16_int8.peak_rss_mib infer.pytorch.bf16.peak_rss_mib) (accent ÷ PyTorch) | | $(fmt infer.pytorch.fp32.peak_rss_mib 0) |"
echo
echo "Dynamic int8 inference (\`--precision int8\` / \`accent quantize\`; targets: batch 32 ≥ 1.7× accent bf16, one sentence p50 ≤ 0.6× accent bf16):"
echo
echo "| | accent int8 | accent bf16 | accent int8 ÷ bf16 | PyTorch quantize_dynamic int8 | accent int8 ÷ PyTorch int8 |"
echo "|---|---:|---:|---:|---:|---:|"
for b in sorted file; do
  label="inference batch 32, sorted by length (sentences/s)"; [ $b = file ] && label="inference batch 32, file order (sentences/s)"
  echo "| $label | $(fmt infer.$b.accent.int8.sentences_per_s 1) | $(fmt infer.$b.accent.bf16.sentences_per_s 1) | $(ratio infer.$b.accent.int8.sentences_per_s infer.$b.accent.bf16.sentences_per_s) | $(fmt infer.$b.pytorch.int8.sentences_per_s 1) | $(ratio infer.$b.accent.int8.sentences_per_s infer.$b.pytorch.int8.sentences_per_s) |"
done
echo "| latency, one sentence, p50 / p99 (ms) | $(latency_cell accent int8) | $(latency_cell accent bf16) | $(ratio latency.accent.int8.p50_ms latency.accent.bf16.p50_ms) (p50) | $(latency_cell pytorch int8) | $(ratio latency.accent.int8.p50_ms latency.pytorch.int8.p50_ms) (p50) |"
echo
echo "- Epoch: the first $(fmt epoch.pad128.examples 0) rows of SST-2 train, B=16, $(fmt epoch.pad128.batches 0) batches, Trainer step (forward + backward + clip + AdamW). Padded length per example over the whole epoch: pad-128 $(fmt epoch.pad128.mean_padded_length 2), dynamic + grouped $(fmt epoch.dynamic.mean_padded_length 2) (real tokens $(fmt epoch.dynamic.mean_real_length 2))."
echo "- Measured: $steps steps per recipe after 1 untimed warm-up step (pad-128: the epoch's first batches; dynamic: batches drawn at random from the grouped epoch, seeded), the same batches for both engines. Extrapolated: the epoch time = timed forward + backward seconds per padded token × the epoch's padded tokens + timed clip + AdamW + zero_grad seconds per step × the epoch's steps (FLOP-weighted variants are in the logs). Dynamic recipe, mean sampled step × $(fmt epoch.dynamic.batches 0) steps instead (unbiased for the random sample, noisier): accent bf16 $(fmt epoch.dynamic.accent.bf16.epoch_s_mean_step 0) s, PyTorch $(fmt epoch.dynamic.pytorch.bf16.epoch_s_mean_step 0) s; the two estimates differ when per-step costs that do not scale with tokens are large (few layers) or K is small."
echo "- clip + AdamW + zero_grad, a fixed cost per step (it weighs most in the dynamic recipe): accent bf16 $(fmt epoch.dynamic.accent.bf16.optimizer_s_per_step 3) s, PyTorch $(fmt epoch.dynamic.pytorch.bf16.optimizer_s_per_step 3) s per step (torch.optim.AdamW, single-tensor path as HF's Trainer gets it in torch 1.13)."
echo "- Inference: SST-2 dev, $(fmt infer.mean_real_length 2) real tokens per sentence; padded length per sentence at batch 32: sorted $(fmt infer.sorted.mean_padded_length 2), file order $(fmt infer.file.mean_padded_length 2). Both engines read the same pre-tokenized batches; each batching is one pass, after a warm-up on the longest batch only (shapes met for the first time pay their setup, as in one \`accent predict\` run); accent's tokenization, timed separately: $(fmt accent.tokenize_dev_us_per_sentence 1) µs per sentence on one thread (latency with tokenization, p50: bf16 $(fmt latency_e2e.accent.bf16.p50_ms 2) ms)."
if [ "$torch_fp32" = 1 ]; then
  echo "- PyTorch fp32: 1 step of the dynamic epoch (no warm-up), 2 batches per inference batching (extrapolated by padded tokens), 10 latency sentences."
fi
echo
echo "logs and metrics: $work"
