// Chooses, call by call, between a plan's team step and its one-thread step
// by their measured time per step.  Both give the same bits, so only speed
// decides, and speed is not a constant on a shared machine: while another
// tenant loads the second core, a small team step (a dozen barriers in
// 150 us) runs at half speed and loses to one thread, while at other times
// it wins by a quarter.  Every 4th call runs the mode not in use, so the
// choice follows the machine.
#pragma once

#include <chrono>

#include "../common.hpp"

namespace bprop::plan {

class ModePacer {
public:
    // Whether the next call, of `steps` steps, should run the team step.
    bool use_team(index_t steps) {
        const bool team_faster = cost_[1] <= cost_[0];
        if (steps < kMinSteps) return team_faster;  // too short to time (or to try)
        ++calls_;
        if (cost_[1] == 0.0) return true;   // measure the team first,
        if (cost_[0] == 0.0) return false;  // then one thread once
        return calls_ % kProbeEvery == 0 ? !team_faster : team_faster;
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
    static constexpr unsigned kProbeEvery = 4;
    static constexpr index_t kMinSteps = 16;
    double cost_[2] = {0.0, 0.0};  // seconds per step, smoothed: one thread, team (0: not measured)
    unsigned calls_ = 0;
};

}  // namespace bprop::plan
