package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/spf13/cobra"
)

// syncPollInterval is how often --wait asks the server about the run.
const syncPollInterval = 200 * time.Millisecond

func (m *Main) sourceSyncCommand() *cobra.Command {
	var full, dryRun, wait bool
	cmd := &cobra.Command{
		Use:   "sync NAME|ID [flags]",
		Short: "Start a run of a source now",
		Long: `Start a run of a source now and print the run's id on stdout.

With --wait the command follows the run: a progress line on stderr shows
its status and counts (rewritten in place on a terminal, one line per
change otherwise), and the outcome with the final counts is printed on
stdout ("succeeded with 2 conflicts" when records were left out, with a
warning on stderr pointing at the run's change log). When a run of the
source is already in progress (started by its schedule, say), --wait
follows that run instead (unless --full or --dry-run asks for another
kind of run). It exits 0
when the run succeeded and 1 when it failed or is held for approval (it
would remove more than the source's deletion guard allows); a held run is
decided with 'scimgate source approve RUN' or 'scimgate source reject RUN'.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return m.startRun(cmd, sourceRuns, args[0], full, dryRun, wait)
		},
	}
	addSyncFlags(cmd, &full, &dryRun, &wait)
	return cmd
}

// followRun polls the run until it has ended and its source or app is
// free for the next run, showing progress on stderr.
func (m *Main) followRun(ctx context.Context, c *apiClient, o runOwner, run runView) (runView, error) {
	p := &progressLine{w: m.Stderr, tty: isTerminal(m.Stderr)}
	defer p.done()
	path := o.path("runs", run.ID)
	for {
		if err := c.call(ctx, http.MethodGet, path, nil, nil, &run); err != nil {
			return run, waitError(err, o, run)
		}
		p.show(progressText(o, run))
		if run.ended() {
			// The runner lets go of the owner just after it records
			// the outcome; wait for that so a next sync is not refused.
			running, err := c.running(ctx, o)
			if err != nil {
				return run, waitError(err, o, run)
			}
			if running != run.ID {
				return run, nil
			}
		}
		t := time.NewTimer(syncPollInterval)
		select {
		case <-ctx.Done():
			t.Stop()
			return run, waitError(ctx.Err(), o, run)
		case <-t.C:
		}
	}
}

func waitError(err error, o runOwner, run runView) error {
	if errors.Is(err, context.Canceled) {
		return fmt.Errorf("stopped waiting for run %s; it goes on on the server ('scimgate %s runs %s')", run.ID, o.kind.noun, o.name)
	}
	return fmt.Errorf("follow run %s: %w", run.ID, err)
}

// runOutcome is nil for a succeeded run and says what happened otherwise.
func runOutcome(o runOwner, r runView) error {
	switch r.Status {
	case "succeeded":
		return nil
	case "failed":
		return fmt.Errorf("run %s of %s failed: %s", r.ID, o.name, r.Error)
	case "held":
		return fmt.Errorf("run %s of %s is HELD for approval: it would remove %d objects, more than %s allows; nothing has been removed\n%s",
			r.ID, o.name, r.Counts.Pending, o.kind.guard, decideHint(o.kind, r.ID))
	}
	return fmt.Errorf("run %s of %s ended %s", r.ID, o.name, r.Status)
}

func decideHint(k *runKind, runID string) string {
	return fmt.Sprintf("approve it with 'scimgate %s approve %s' or reject it with 'scimgate %s reject %s'", k.noun, runID, k.noun, runID)
}

// runSummary is one line with a run's outcome and counts.
func runSummary(r runView) string {
	return fmt.Sprintf("run %s %s (%s): %s", r.ID, r.outcome(), modeText(r), countsText(r.Counts))
}

// progressText is short enough for one terminal line: \r only returns
// to the start of the last screen line, so a wrapped line would smear.
func progressText(o runOwner, r runView) string {
	n := r.Counts
	return fmt.Sprintf("%s: %s, fetched %d, created %d, updated %d, removed %d, errors %d",
		o.name, r.Status, n.Fetched, n.Created, n.Updated, n.Deactivated+n.Deleted, n.Errors)
}

func countsText(n countsView) string {
	s := fmt.Sprintf("fetched %d, created %d, updated %d, unchanged %d, deactivated %d, deleted %d, conflicts %d, errors %d",
		n.Fetched, n.Created, n.Updated, n.Unchanged, n.Deactivated, n.Deleted, n.Conflicts, n.Errors)
	if n.Unresolved > 0 {
		s += fmt.Sprintf(", unresolved %d", n.Unresolved)
	}
	if n.Pending > 0 {
		s += fmt.Sprintf(", pending %d", n.Pending)
	}
	// Identity linking's counts, for linked sources only.
	for _, c := range []struct {
		n    int
		word string
	}{{n.Linked, "linked"}, {n.Unlinked, "unlinked"}, {n.Left, "left"}} {
		if c.n > 0 {
			s += fmt.Sprintf(", %s %d", c.word, c.n)
		}
	}
	return s
}

// maxProgressWidth keeps the in-place line within a default terminal.
const maxProgressWidth = 79

// progressLine shows a changing status line: rewritten in place with \r
// on a terminal; elsewhere (logs, pipes) a new line per change, so the
// output stays readable.
type progressLine struct {
	w     io.Writer
	tty   bool
	last  string
	width int // runes of the line on screen (tty)
}

func (p *progressLine) show(line string) {
	if line == p.last {
		return
	}
	p.last = line
	if !p.tty {
		fmt.Fprintln(p.w, line)
		return
	}
	if r := []rune(line); len(r) > maxProgressWidth {
		line = string(r[:maxProgressWidth-1]) + "…"
	}
	n := utf8.RuneCountInString(line)
	fmt.Fprint(p.w, "\r"+line+strings.Repeat(" ", max(p.width-n, 0))) // blank out a longer previous line
	p.width = n
}

// done ends an in-place line so later output starts on a fresh one.
func (p *progressLine) done() {
	if p.tty && p.width > 0 {
		fmt.Fprintln(p.w)
	}
}

// isTerminal reports whether w is a character device such as a terminal.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}
