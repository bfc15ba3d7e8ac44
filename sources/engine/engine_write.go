package engine

import (
	"errors"
	"fmt"

	"github.com/scimgate/scimgate/storage"
)

// batchWrite is how writeOrSplit writes one kind of record (users or
// groups).
type batchWrite[M any] struct {
	kind string // "users", "groups"
	// count returns the run's counts with ms counted as written.
	count func(c storage.RunCounts, ms []M) storage.RunCounts
	// apply writes ms in one transaction that also stores the counts after.
	apply func(ms []M, after storage.RunCounts) error
	// conflict records m as a conflict of the run, not written.
	conflict func(m M)
	// written logs what a committed transaction wrote and takes its counts.
	written func(ms []M, after storage.RunCounts)
	// what names m in an error.
	what func(m M) string
}

// writeOrSplit writes a batch in one transaction, with the run's counts as
// they are once it is written (a dry run only counts). When another writer
// took a unique name meanwhile (ErrConflict), the batch is written again
// one record at a time, so only the colliding records become conflicts.
func writeOrSplit[M any](st *runState, writes []M, w batchWrite[M]) error {
	after := w.count(st.run.Counts, writes)
	if st.job.DryRun {
		w.written(writes, after)
		return nil
	}
	err := w.apply(writes, after)
	switch {
	case err == nil:
		w.written(writes, after)
		return nil
	case !errors.Is(err, storage.ErrConflict):
		return fmt.Errorf("write %s: %w", w.kind, err)
	case len(writes) == 1:
		w.conflict(writes[0])
		return nil
	}
	for _, m := range writes {
		one := []M{m}
		after := w.count(st.run.Counts, one)
		err := w.apply(one, after)
		switch {
		case errors.Is(err, storage.ErrConflict):
			w.conflict(m)
		case err != nil:
			return fmt.Errorf("write %s: %w", w.what(m), err)
		default:
			w.written(one, after)
		}
	}
	return nil
}
