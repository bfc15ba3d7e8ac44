// Package outbound provisions applications' views into the applications'
// own SCIM endpoints: the SCIM client (auth, retries, paging, target
// profiles), the push engine (matching and claiming, creates before the
// groups that hold them, membership in batches, removals last, the
// deletion guard) and the runner that schedules pushes and debounces them
// after changes.
//
// It imports storage (the view, runs and push bookkeeping) and sources
// (the mapping template language only).
package outbound
