package storage

import "errors"

// Sentinels returned (wrapped) by every store. Callers test with errors.Is.
var (
	// ErrNotFound: the resource, token or row does not exist.
	ErrNotFound = errors.New("not found")
	// ErrConflict: a uniqueness constraint (userName, group displayName,
	// token name) would be violated.
	ErrConflict = errors.New("already exists")
	// ErrPrecondition: the caller's expected version does not match.
	ErrPrecondition = errors.New("version mismatch")
	// ErrForbidden: the caller does not own the resource it tries to change.
	ErrForbidden = errors.New("not owned by caller")
	// ErrInvalid: the caller sent a value the store cannot accept (an
	// unknown member id, an unsupported filter attribute). The message says which.
	ErrInvalid = errors.New("invalid")
)

// InvalidError is ErrInvalid with a message a person can act on.
type InvalidError struct{ Msg string }

func (e *InvalidError) Error() string        { return e.Msg }
func (e *InvalidError) Is(target error) bool { return target == ErrInvalid }

// Invalid returns an error that matches ErrInvalid and carries msg.
func Invalid(msg string) error { return &InvalidError{Msg: msg} }
