// Package runset is the bookkeeping the sync and push runners keep for
// their runs: at most one run per key (a source, an app), at most a
// number running at once, and a shutdown that stops taking runs and
// waits for those under way.
package runset

import (
	"context"
	"sync"
)

// Set tracks a runner's runs. Its methods are safe for concurrent use.
type Set struct {
	slots  chan struct{}
	ctx    context.Context // canceled when Shutdown stops waiting
	stop   context.CancelFunc
	wg     sync.WaitGroup
	busy   func(runID string) error
	closed error

	mu      sync.Mutex
	active  map[string]string // key -> run id
	closing bool
}

// New returns a set that lets maxConcurrent runs go at once (at least
// one). busy makes the refusal of a key that has a run in progress (it is
// given that run's id); closed is the refusal once Shutdown has begun.
// Both are the runner's own errors, which its callers check for.
func New(maxConcurrent int, busy func(runID string) error, closed error) *Set {
	ctx, stop := context.WithCancel(context.Background())
	return &Set{
		slots: make(chan struct{}, max(maxConcurrent, 1)),
		ctx:   ctx, stop: stop, busy: busy, closed: closed,
		active: map[string]string{},
	}
}

// Context is what runs derive theirs from: it is canceled when Shutdown
// stops waiting for them.
func (s *Set) Context() context.Context { return s.ctx }

// Begin reserves key for a run. Under the set's lock (so no two callers
// reserve one key, and what begin checks in the store stays true until it
// returns) it refuses while key has a run or once Shutdown has begun, and
// otherwise calls begin. When begin returns a run id without error, key
// belongs to that run until End(key), Running reports it and Shutdown
// waits for it; begin's error is returned as it is.
func (s *Set) Begin(key string, begin func() (runID string, err error)) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if id, busy := s.active[key]; busy {
		return s.busy(id)
	}
	if s.closing {
		return s.closed
	}
	id, err := begin()
	if err != nil {
		return err
	}
	s.active[key] = id
	s.wg.Add(1)
	return nil
}

// End frees key once the run Begin reserved it for is over.
func (s *Set) End(key string) {
	s.mu.Lock()
	delete(s.active, key)
	s.mu.Unlock()
	s.wg.Done()
}

// Running reports the id of key's run in progress, if any.
func (s *Set) Running(key string) (string, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	id, ok := s.active[key]
	return id, ok
}

// Slot waits for one of the slots of runs going at once; release gives it
// back. ok is false, with nothing to release, when ctx ends first.
func (s *Set) Slot(ctx context.Context) (release func(), ok bool) {
	select {
	case s.slots <- struct{}{}:
		return func() { <-s.slots }, true
	case <-ctx.Done():
		return nil, false
	}
}

// Shutdown stops taking runs and waits for those under way; when ctx ends
// first, it cancels them (Context) and waits for them to end.
func (s *Set) Shutdown(ctx context.Context) {
	s.mu.Lock()
	s.closing = true
	s.mu.Unlock()
	done := make(chan struct{})
	go func() {
		s.wg.Wait()
		close(done)
	}()
	select {
	case <-done:
		s.stop()
	case <-ctx.Done():
		s.stop()
		<-done
	}
}
