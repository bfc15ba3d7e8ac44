package sources

import "time"

// UnhealthyAfter is how many failed runs in a row mark a source (or an
// app's push) unhealthy.
const UnhealthyAfter = 3

// Backoff is how long a scheduler waits after the n-th failure in a row:
// minutes for the first retries, then hours, like Entra's quarantine, so
// a broken upstream or target is not hammered.
func Backoff(n int) time.Duration {
	switch {
	case n <= 0:
		return 0
	case n == 1:
		return time.Minute
	case n == 2:
		return 10 * time.Minute
	}
	d := time.Hour << min(n-3, 4) // 1h, 2h, 4h, 8h, 16h
	return min(d, 12*time.Hour)
}
