"""How fast the waiting rooms may admit, judged from how this instance's seat engine answers holds.

Admitting faster than the seat engine can answer only moves the crowd from the waiting room into
slow holds. So each admission step asks for a rate factor: it halves (down to a tenth) while the
holds since the last step were slow at the 90th percentile or failed too often, and grows back by a
quarter while they were not (or there were none)."""
from __future__ import annotations

import statistics

MIN_FACTOR = 0.1
MIN_SAMPLES = 10        # fewer holds than this say nothing about latency


class AdmissionPace:
    def __init__(self, *, slow_hold_ms: float, error_share: float):
        self._slow_s = slow_hold_ms / 1000
        self._error_share = error_share
        self._durations: list[float] = []
        self._failures = 0
        self.factor = 1.0

    def record(self, seconds: float, *, failed: bool) -> None:
        """One hold's time, and whether it failed (a backend error, not a refusal)."""
        self._durations.append(seconds)
        self._failures += failed

    def adjust(self) -> float:
        """The factor for this step, from the holds since the last."""
        durations, failures = self._durations, self._failures
        self._durations, self._failures = [], 0
        slow = len(durations) >= MIN_SAMPLES and statistics.quantiles(durations, n=10)[-1] > self._slow_s
        failing = bool(durations) and failures / len(durations) > self._error_share
        if slow or failing:
            self.factor = max(MIN_FACTOR, self.factor / 2)
        else:
            self.factor = min(1.0, self.factor * 1.25)
        return self.factor
