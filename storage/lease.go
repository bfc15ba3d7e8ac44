package storage

import (
	"context"
	"time"
)

// LeaseStore hands out expiring leases, so that of several scimgate
// replicas on one database exactly one works on a thing (a source's sync)
// at a time, and another takes over when the holder dies.
//
// Expiry is compared with the clock of the replica asking, so replicas'
// clocks must agree to well within a lease's time to live (NTP does).
type LeaseStore interface {
	// AcquireLease takes the lease named key for holder until now+ttl,
	// or extends it when holder has it already. It reports false, without
	// error, while another holder's lease has not expired; that holder's
	// name is returned either way.
	AcquireLease(ctx context.Context, key, holder string, ttl time.Duration) (ok bool, current string, err error)
	// ReleaseLease ends holder's lease on key; nothing happens when holder
	// does not hold it (any more).
	ReleaseLease(ctx context.Context, key, holder string) error
}
