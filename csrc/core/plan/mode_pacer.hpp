// Chooses, call by call, between a plan's team step and its one-thread step
// by their measured time per step.  Both give the same bits, so only speed
// decides, and speed is not a constant on a shared machine: while another
// tenant loads the second core, a small team step (a dozen barriers in
// 150 us) runs at half speed and loses to one thread, while at other times
// it wins by a quarter.  Every other call starts with a probe: its first
// kProbeSteps steps run in the mode not in use, so the choice follows the
// machine.  (Probing whole calls, every 4th, ran a quarter of all steps in
// the slower mode: a call of fit is several hundred steps.)
#pragma once

#include <algorithm>
#include <chrono>

#include "../common.hpp"

namespace bprop::plan {

class ModePacer {
public:
    // How one call of `steps` steps runs: steps [0, probe_steps) in the
    // probed mode, the rest in the chosen one.
    struct Schedule {
        bool probe_team = false;
        index_t probe_steps = 0;
        bool team = false;
    };

    Schedule schedule(index_t steps) {
        const bool team_faster = cost_[1] <= cost_[0];
        if (steps < kMinSteps) return {false, 0, team_faster};  // too short to time (or to try)
        ++calls_;
        const index_t probe = std::min(steps, kProbeSteps);
        if (cost_[1] == 0.0) return {false, 0, true};         // the team first, a whole call;
        if (cost_[0] == 0.0) return {false, probe, true};     // then one thread, in a probe;
        if (calls_ % kProbeEvery == 0) return {!team_faster, probe, team_faster};  // then now and then
        return {false, 0, team_faster};
    }

    void record(bool team, index_t steps, double seconds) {
        if (steps < kMinSteps) return;
        const double per_step = seconds / static_cast<double>(steps);
        double& cost = cost_[team ? 1 : 0];
        cost = cost == 0.0 ? per_step : 0.5 * cost + 0.5 * per_step;
    }

    static double now() {
        return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
    }

private:
    static constexpr unsigned kProbeEvery = 2;
    static constexpr index_t kMinSteps = 16;
    static constexpr index_t kProbeSteps = 32;
    double cost_[2] = {0.0, 0.0};  // seconds per step, smoothed: one thread, team (0: not measured)
    unsigned calls_ = 0;
};

}  // namespace bprop::plan
