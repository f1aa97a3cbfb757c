// profile.cuh: where a forward pass's time goes, stage by stage, on a machine without a profiler.
//
// KUBEINFER_CUDA_PROFILE=1 at model creation turns it on: every forward pass then runs without graph capture,
// an event is recorded after each stage the pass marks (run() in model.cu: the norm, each projection, rope and
// the KV write, attention, ...), and the time between an event and the one before it is summed under the stage's
// label, for each batch size and kind of pass. kic_model_release prints the table to stderr. Launches then wait
// on their events' order (no overlap between kernels, no graphs), so the sum is the step without those; the
// table says where the time goes, not how fast the step is.
#pragma once
#include <cuda_runtime.h>
#include <map>
#include <string>
#include <vector>

struct kic_profile {
	bool on = false;
	std::vector<cudaEvent_t> events; // grows to the marks of the longest pass, then reused
	std::vector<const char *> labels; // labels[i] names the stage that ends at events[i] (events[0] is the start)
	size_t used = 0;
	std::string pass; // "decode n=64", "prefill n=512", ...
	struct total {
		double us = 0;
		long calls = 0;
	};
	std::map<std::string, std::map<std::string, total>> totals; // pass -> stage -> time
	std::map<std::string, std::vector<std::string>> order;      // pass -> stages in the order first seen
};

// kic_profile_begin starts a pass (records its start event on s); _mark ends the stage `label`; _end waits for
// the pass and adds its stages' times. Each does nothing unless p.on.
void kic_profile_begin(kic_profile &p, const char *pass, int n, cudaStream_t s);
void kic_profile_mark(kic_profile &p, const char *label, cudaStream_t s);
void kic_profile_end(kic_profile &p, cudaStream_t s);
// kic_profile_print writes the totals to stderr, a table per pass, and frees the events.
void kic_profile_print(kic_profile &p);
