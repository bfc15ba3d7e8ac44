// Package engine is the sync machinery behind the connector contract in
// package sources: it prepares a stored source (settings with their
// secrets opened, mapping, scope, deletion policy) and runs it. The
// Runner starts runs (one per source at a time, across replicas through
// leases), the Scheduler wakes sources on their schedules, and the engine
// inside the runner maps what a source streams, writes it in batched
// transactions through a pipeline, and computes deletions behind the
// guard only after a complete enumeration. The records of a source with
// link keys are contributions to people, joined and split by the linking
// rules (link_*.go). Secrets are sealed at rest by a Sealer.
//
// Connectors never import this package; the API and the command do.
package engine
