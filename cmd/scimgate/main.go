// Command scimgate is the SCIM 2.0 provisioning gateway. `scimgate serve`
// runs the HTTP server; `scimgate token` manages API tokens directly in the
// same database.
package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"time"
)

func main() {
	m := &Main{Stdout: os.Stdout, Stderr: os.Stderr, LookupEnv: os.LookupEnv, Now: time.Now}
	if err := m.Run(context.Background(), os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "scimgate:", err)
		os.Exit(1)
	}
}

// Main is one run of the scimgate program. Its fields are the program's
// outside world, injected so that tests drive the whole CLI in-process and
// in parallel, without touching the real environment or standard streams.
//
// Unlike a long-lived daemon struct with Run and Close, Run here blocks for
// the life of the command: serve owns its server's shutdown (on ctx or a
// signal), so there is nothing left for a caller to close.
type Main struct {
	Stdout io.Writer // command output: tokens, tables
	Stderr io.Writer // logs and hints for people
	// LookupEnv reads the environment; nil means an empty environment.
	LookupEnv func(string) (string, bool)
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Listening, if set, is called by serve with the bound address as soon
	// as the server accepts connections. It is how a test that listens on
	// port 0 learns the port.
	Listening func(net.Addr)
}

// Run executes one command line (args without the program name) and returns
// when the command is done; for serve, after ctx is cancelled or SIGINT or
// SIGTERM arrives and the server has shut down.
func (m *Main) Run(ctx context.Context, args []string) error {
	mm := *m
	if mm.Stdout == nil {
		mm.Stdout = io.Discard
	}
	if mm.Stderr == nil {
		mm.Stderr = io.Discard
	}
	if mm.LookupEnv == nil {
		mm.LookupEnv = func(string) (string, bool) { return "", false }
	}
	if mm.Now == nil {
		mm.Now = time.Now
	}
	root := mm.rootCommand()
	root.SetArgs(args)
	return root.ExecuteContext(ctx)
}
