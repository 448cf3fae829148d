// Cost of naming the user of a request: a scope enter+leave pair for a typical context, a
// record swap pair as language bindings do on async context switches, and a loop that never
// calls the SDK as the baseline.
#include <benchmark/benchmark.h>

#include "jamjet/jamjet.h"

namespace {

// 36-character UUID user id, 20-character email, and three attributes.
struct TypicalContext {
  jamjet_attr attrs[3];
  jamjet_user_context user;

  TypicalContext() {
    attrs[0].key = "plan";
    attrs[0].type = JAMJET_ATTR_STRING;
    attrs[0].value.string = "enterprise";
    attrs[1].key = "region";
    attrs[1].type = JAMJET_ATTR_STRING;
    attrs[1].value.string = "eu-west-1";
    attrs[2].key = "seats";
    attrs[2].type = JAMJET_ATTR_NUMBER;
    attrs[2].value.number = 250;
    user = {"3f2b8c1e-7d4a-4e9b-9c1f-2a6d8e0b5c47", "ada.l@example-co.com", attrs, 3};
  }
};

void BM_ScopeEnterLeave(benchmark::State& state) {
  TypicalContext context;
  jamjet_scope scope;
  for (auto _ : state) {
    jamjet_status entered = jamjet_scope_enter(&scope, &context.user);
    benchmark::DoNotOptimize(entered);
    jamjet_status left = jamjet_scope_leave(&scope);
    benchmark::DoNotOptimize(left);
  }
  if (jamjet_scope_enter(&scope, &context.user) != JAMJET_OK) state.SkipWithError("enter failed");
  jamjet_scope_leave(&scope);
}
BENCHMARK(BM_ScopeEnterLeave);

void BM_SwapRecordPair(benchmark::State& state) {
  TypicalContext context;
  jamjet_record record;
  if (jamjet_record_encode(&context.user, &record) != JAMJET_OK) {
    state.SkipWithError("encode failed");
    return;
  }
  for (auto _ : state) {
    const jamjet_record* previous = jamjet_thread_swap_record(&record);
    benchmark::DoNotOptimize(previous);
    const jamjet_record* restored = jamjet_thread_swap_record(previous);
    benchmark::DoNotOptimize(restored);
  }
}
BENCHMARK(BM_SwapRecordPair);

// The encoding alone, which is most of an enter.
void BM_RecordEncode(benchmark::State& state) {
  TypicalContext context;
  jamjet_record record;
  for (auto _ : state) {
    jamjet_status status = jamjet_record_encode(&context.user, &record);
    benchmark::DoNotOptimize(status);
    benchmark::ClobberMemory();
  }
}
BENCHMARK(BM_RecordEncode);

// The same loop with no SDK call: the harness's own cost per iteration.
void BM_BaselineNoApiCall(benchmark::State& state) {
  TypicalContext context;
  for (auto _ : state) {
    benchmark::DoNotOptimize(context.user.user_id);
  }
}
BENCHMARK(BM_BaselineNoApiCall);

}  // namespace

BENCHMARK_MAIN();
