// Package scim is scimgate's SCIM 2.0 service provider (RFC 7643/7644).
//
// A request takes one path: Server.ServeHTTP checks the caller's role and
// the filter's size, reads and normalises the body once (client quirks,
// normalize.go), and routes it (server.go). Writes are validated against
// the schemas by github.com/elimity-com/scim's own validators
// (validate.go), then the handler that makes the store call writes the
// response, as reads do. The library also defines the schemas and parses
// filters; everything that touches data is ours: filters compiled to
// storage queries, PATCH application inside a store transaction,
// projection, sorting, paging, ETags and preconditions, ownership.
package scim

import (
	"context"

	"github.com/scimgate/scimgate/storage"
)

// Caller is the authenticated client of a request.
type Caller struct {
	// Owner tags resources the caller creates and limits what it may change.
	Owner string
	// CanWrite is false for read-only tokens.
	CanWrite bool
	// App, when set, is the application whose view the caller reads (an
	// application's reader token); nil reads the whole directory.
	App *storage.App
}

type callerKey struct{}

// WithCaller returns ctx carrying c; the API's auth middleware sets it.
func WithCaller(ctx context.Context, c Caller) context.Context {
	return context.WithValue(ctx, callerKey{}, c)
}

func callerFrom(ctx context.Context) (Caller, bool) {
	c, ok := ctx.Value(callerKey{}).(Caller)
	return c, ok
}
