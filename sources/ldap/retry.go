package ldap

import (
	"context"
	"errors"
	"fmt"
	"time"

	goldap "github.com/go-ldap/ldap/v3"
)

// A DC that sheds load answers busy (51) or unavailable (52); a dropped
// connection shows as a network error. Each heals on a new connection, so
// a search that meets one is retried this many times in all, waiting
// firstBackoff, then twice as long each time (1s, 2s, 4s).
const (
	maxAttempts  = 4
	firstBackoff = time.Second
)

// retryable says whether err may pass on a new connection.
func retryable(err error) bool {
	return goldap.IsErrorAnyOf(err, goldap.LDAPResultBusy, goldap.LDAPResultUnavailable, goldap.ErrorNetwork) ||
		errors.Is(err, ErrUnreachable)
}

// faultName says in words which retryable fault err is.
func faultName(err error) string {
	switch {
	case goldap.IsErrorAnyOf(err, goldap.LDAPResultBusy):
		return "busy (LDAP result code 51)"
	case goldap.IsErrorAnyOf(err, goldap.LDAPResultUnavailable):
		return "unavailable (LDAP result code 52)"
	case errors.Is(err, ErrUnreachable):
		return "unreachable"
	}
	return "unreachable (the connection broke)"
}

// retried runs op, reconnecting and running it again from the start when
// it fails with a retryable fault. op must be restartable: a paged search
// begins again at its first page, because the paging cookie belongs to
// the connection that handed it out.
func (s *session) retried(ctx context.Context, what string, op func() error) error {
	delay := firstBackoff
	var err error
	for attempt := 1; ; attempt++ {
		if attempt > 1 {
			err = s.reconnect(ctx)
		}
		if err == nil {
			err = op()
		}
		if err == nil || !retryable(err) || ctx.Err() != nil {
			return err
		}
		if attempt == maxAttempts {
			return fmt.Errorf("ldap: %s: the directory stayed %s through %d attempts; try again later or point the source at a less loaded DC: %w",
				what, faultName(err), attempt, err)
		}
		s.log.Warn("ldap: directory fault, reconnecting", "what", what, "attempt", attempt, "wait", delay, "error", err)
		if serr := s.clock.Sleep(ctx, delay); serr != nil {
			return err
		}
		delay *= 2
	}
}

// reconnect replaces the session's connection with a new, bound one.
func (s *session) reconnect(ctx context.Context) error {
	s.stats.reconnects.Add(1)
	if s.c != nil {
		s.c.Close()
		s.c = nil
	}
	c, err := s.open(ctx)
	if err != nil {
		return err
	}
	s.c = c
	return nil
}

// sent remembers what one search handed to the sink, so a search started
// again after a fault does not send it twice (the engine counts a key it
// sees twice in a run as an error). It holds keys only, and only for the
// search in progress.
type sent map[string]struct{}

// first reports whether id is new, and remembers it.
func (m sent) first(id string) bool {
	if _, ok := m[id]; ok {
		return false
	}
	m[id] = struct{}{}
	return true
}
