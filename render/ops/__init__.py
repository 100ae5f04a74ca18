"""Per-frame operations: motion schedules, warps, colour coherence, optical flow, objective plans, stability."""
