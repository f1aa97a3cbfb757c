#include "profile.cuh"

#include <cstdio>

void kic_profile_begin(kic_profile &p, const char *pass, int n, cudaStream_t s) {
	if (!p.on) return;
	p.used = 0;
	p.labels.clear();
	p.pass = std::string(pass) + " n=" + std::to_string(n);
	kic_profile_mark(p, "", s);
}

void kic_profile_mark(kic_profile &p, const char *label, cudaStream_t s) {
	if (!p.on) return;
	if (p.used == p.events.size()) {
		cudaEvent_t e;
		if (cudaEventCreate(&e) != cudaSuccess) return; // a diagnostic: a missing mark merges two stages
		p.events.push_back(e);
	}
	cudaEventRecord(p.events[p.used++], s);
	p.labels.push_back(label);
}

void kic_profile_end(kic_profile &p, cudaStream_t s) {
	if (!p.on || p.used < 2) return;
	cudaStreamSynchronize(s);
	auto &stages = p.totals[p.pass];
	auto &order = p.order[p.pass];
	for (size_t i = 1; i < p.used; i++) {
		float ms = 0;
		if (cudaEventElapsedTime(&ms, p.events[i - 1], p.events[i]) != cudaSuccess) continue;
		auto it = stages.find(p.labels[i]);
		if (it == stages.end()) {
			order.push_back(p.labels[i]);
			it = stages.emplace(p.labels[i], kic_profile::total{}).first;
		}
		it->second.us += 1e3 * ms;
		it->second.calls++;
	}
	stages["(pass)"].calls++;
	p.used = 0;
}

void kic_profile_print(kic_profile &p) {
	for (auto &[pass, stages] : p.totals) {
		long passes = stages["(pass)"].calls;
		if (passes <= 0) continue;
		double sum = 0;
		for (auto &[label, t] : stages) sum += t.us;
		fprintf(stderr, "kubeinfer cuda profile: %s, %ld passes, %.1f us a pass in its stages\n", pass.c_str(), passes,
		        sum / passes);
		for (const std::string &label : p.order[pass]) {
			const kic_profile::total &t = stages[label];
			fprintf(stderr, "  %-24s %9.1f us a pass  %5.1f%%  (%ld times a pass)\n", label.c_str(), t.us / passes,
			        sum > 0 ? 100 * t.us / sum : 0, t.calls / passes);
		}
	}
	for (cudaEvent_t e : p.events) cudaEventDestroy(e);
	p.events.clear();
	p.totals.clear();
	p.order.clear();
}
