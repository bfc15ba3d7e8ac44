package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
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
			c, src, err := m.clientAndSource(cmd, args[0])
			if err != nil {
				return err
			}
			ctx := cmd.Context()
			q := url.Values{}
			if full {
				q.Set("mode", "full")
			}
			if dryRun {
				q.Set("dryRun", "true")
			}
			var run runView
			if err := c.call(ctx, http.MethodPost, sourcePath(src.ID, "sync"), q, nil, &run); err != nil {
				var ae *apiError
				switch {
				case errors.As(err, &ae) && ae.Code == "run_held":
					return fmt.Errorf("%w\n%s", err, decideHint(ae.RunID))
				case errors.As(err, &ae) && ae.Code == "run_in_progress" && wait && !full && !dryRun && ae.RunID != "":
					// The schedule (or another admin) started a run just
					// before: it syncs what this one would, so follow it.
					if gerr := c.call(ctx, http.MethodGet, sourcePath(src.ID, "runs", ae.RunID), nil, nil, &run); gerr != nil {
						return err
					}
					fmt.Fprintf(m.Stderr, "%s: a run is already in progress (run %s, trigger %s); following it.\n", src.Name, run.ID, run.Trigger)
				default:
					return err
				}
			}
			if !wait {
				fmt.Fprintln(m.Stdout, run.ID)
				fmt.Fprintf(m.Stderr, "Started run %s of %s; follow it with 'scimgate source runs %s'.\n", run.ID, src.Name, src.Name)
				return nil
			}
			final, err := m.followRun(ctx, c, src, run)
			if err != nil {
				return err
			}
			fmt.Fprintln(m.Stdout, runSummary(final))
			if final.Warnings > 0 {
				what := fmt.Sprintf("%d records were", final.Warnings)
				if final.Warnings == 1 {
					what = "1 record was"
				}
				fmt.Fprintf(m.Stderr, "warning: %s not applied as the source has it; the run's change log says why: GET %s\n",
					what, "/api/v1"+sourcePath(src.ID, "runs", final.ID, "changes"))
			}
			for _, n := range final.Notes {
				fmt.Fprintln(m.Stderr, "note:", n)
			}
			return runOutcome(src, final)
		},
	}
	f := cmd.Flags()
	f.BoolVar(&full, "full", false, "read everything, not only what changed since the last run")
	f.BoolVar(&dryRun, "dry-run", false, "report what would change without changing anything")
	f.BoolVar(&wait, "wait", false, "follow the run until it ends; exit 1 unless it succeeded")
	return cmd
}

// followRun polls the run until it has ended and the source is free for
// the next run, showing progress on stderr.
func (m *Main) followRun(ctx context.Context, c *apiClient, src sourceView, run runView) (runView, error) {
	p := &progressLine{w: m.Stderr, tty: isTerminal(m.Stderr)}
	defer p.done()
	path := sourcePath(src.ID, "runs", run.ID)
	for {
		if err := c.call(ctx, http.MethodGet, path, nil, nil, &run); err != nil {
			return run, waitError(err, src, run)
		}
		p.show(progressText(src, run))
		if run.ended() {
			// The runner lets go of the source just after it records
			// the outcome; wait for that so a next sync is not refused.
			var now sourceView
			if err := c.call(ctx, http.MethodGet, sourcePath(src.ID), nil, nil, &now); err != nil {
				return run, waitError(err, src, run)
			}
			if now.RunningRunID != run.ID {
				return run, nil
			}
		}
		t := time.NewTimer(syncPollInterval)
		select {
		case <-ctx.Done():
			t.Stop()
			return run, waitError(ctx.Err(), src, run)
		case <-t.C:
		}
	}
}

func waitError(err error, src sourceView, run runView) error {
	if errors.Is(err, context.Canceled) {
		return fmt.Errorf("stopped waiting for run %s; it goes on on the server ('scimgate source runs %s')", run.ID, src.Name)
	}
	return fmt.Errorf("follow run %s: %w", run.ID, err)
}

// runOutcome is nil for a succeeded run and says what happened otherwise.
func runOutcome(src sourceView, r runView) error {
	switch r.Status {
	case "succeeded":
		return nil
	case "failed":
		return fmt.Errorf("run %s of %s failed: %s", r.ID, src.Name, r.Error)
	case "held":
		return fmt.Errorf("run %s of %s is HELD for approval: it would remove %d objects, more than the source's deletion guard allows; nothing has been removed\n%s",
			r.ID, src.Name, r.Counts.Pending, decideHint(r.ID))
	}
	return fmt.Errorf("run %s of %s ended %s", r.ID, src.Name, r.Status)
}

func decideHint(runID string) string {
	return fmt.Sprintf("approve it with 'scimgate source approve %s' or reject it with 'scimgate source reject %s'", runID, runID)
}

// runSummary is one line with a run's outcome and counts.
func runSummary(r runView) string {
	return fmt.Sprintf("run %s %s (%s): %s", r.ID, r.outcome(), modeText(r), countsText(r.Counts))
}

// progressText is short enough for one terminal line: \r only returns
// to the start of the last screen line, so a wrapped line would smear.
func progressText(src sourceView, r runView) string {
	n := r.Counts
	return fmt.Sprintf("%s: %s, fetched %d, created %d, updated %d, removed %d, errors %d",
		src.Name, r.Status, n.Fetched, n.Created, n.Updated, n.Deactivated+n.Deleted, n.Errors)
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
