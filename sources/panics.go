package sources

import (
	"fmt"
	"runtime/debug"
)

// PanicError is a panic recovered by Recover.
type PanicError struct {
	Value any
	Stack []byte
}

func (e *PanicError) Error() string { return fmt.Sprintf("panic: %v", e.Value) }

// Recover runs fn and returns a panic in it as a *PanicError. Connectors
// run the work of every goroutine they start (prefetching the next page,
// reading member lists in parallel) through it and hand the error back to
// Sync: a panic left in such a goroutine would end the whole process, SCIM
// service included, where a panic in Sync itself only fails the run.
func Recover(fn func() error) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = &PanicError{Value: r, Stack: debug.Stack()}
		}
	}()
	return fn()
}
