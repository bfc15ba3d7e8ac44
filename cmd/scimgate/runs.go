package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"text/tabwriter"

	"github.com/spf13/cobra"
)

// The run verbs (sync, runs, approve, reject) are one implementation for
// sources (their syncs) and apps (their pushes): a runKind says how to
// find the owner of the runs and what to call things.

// runOwner is one source or app whose runs a command acts on.
type runOwner struct {
	kind     *runKind
	name, id string
}

// path is the API path of the owner, plus more path segments.
func (o runOwner) path(more ...string) string {
	p := o.kind.collection + "/" + url.PathEscape(o.id)
	for _, s := range more {
		p += "/" + url.PathEscape(s)
	}
	return p
}

// runKind describes sources or apps to the run verbs.
type runKind struct {
	noun       string // the command ("source", "app") and what messages call one
	collection string // API path of the collection: /sources, /apps
	guard      string // what holds a run, for messages
	// notApplied ends "N records were ..." for a run with warnings.
	notApplied string
	resolve    func(ctx context.Context, c *apiClient, nameOrID string) (runOwner, error)
	// list is every owner a run may belong to (approve and reject without
	// a name look for the run in each).
	list func(ctx context.Context, c *apiClient) ([]runOwner, error)
}

// sourceRuns is the runKind of sources.
var sourceRuns = newSourceRuns()

func newSourceRuns() *runKind {
	k := &runKind{noun: "source", collection: "/sources", guard: "the source's deletion guard",
		notApplied: "not applied as the source has it"}
	k.resolve = func(ctx context.Context, c *apiClient, nameOrID string) (runOwner, error) {
		src, err := c.resolve(ctx, nameOrID)
		return runOwner{kind: k, name: src.Name, id: src.ID}, err
	}
	k.list = func(ctx context.Context, c *apiClient) ([]runOwner, error) {
		srcs, err := c.sources(ctx)
		out := make([]runOwner, len(srcs))
		for i, s := range srcs {
			out[i] = runOwner{kind: k, name: s.Name, id: s.ID}
		}
		return out, err
	}
	return k
}

// running asks the server which run of the owner is in progress.
func (c *apiClient) running(ctx context.Context, o runOwner) (string, error) {
	var now struct {
		RunningRunID string `json:"runningRunId"` // a source
		Push         *struct {
			RunningRunID string `json:"runningRunId"`
		} `json:"push"` // an app
	}
	if err := c.call(ctx, http.MethodGet, o.path(), nil, nil, &now); err != nil {
		return "", err
	}
	if now.Push != nil {
		return now.Push.RunningRunID, nil
	}
	return now.RunningRunID, nil
}

func (m *Main) clientAndOwner(cmd *cobra.Command, k *runKind, nameOrID string) (*apiClient, runOwner, error) {
	c, err := m.client(cmd)
	if err != nil {
		return nil, runOwner{}, err
	}
	o, err := k.resolve(cmd.Context(), c, nameOrID)
	return c, o, err
}

// startRun is the body of the sync verbs: start a run (or, with --wait,
// follow the one in progress), print its id or follow it to its outcome.
func (m *Main) startRun(cmd *cobra.Command, k *runKind, nameOrID string, full, dryRun, wait bool) error {
	c, o, err := m.clientAndOwner(cmd, k, nameOrID)
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
	if err := c.call(ctx, http.MethodPost, o.path("sync"), q, nil, &run); err != nil {
		var ae *apiError
		switch {
		case errors.As(err, &ae) && ae.Code == "run_held":
			return fmt.Errorf("%w\n%s", err, decideHint(k, ae.RunID))
		case errors.As(err, &ae) && ae.Code == "run_in_progress" && wait && !full && !dryRun && ae.RunID != "":
			// The schedule (or another admin) started a run just
			// before: it does what this one would, so follow it.
			if gerr := c.call(ctx, http.MethodGet, o.path("runs", ae.RunID), nil, nil, &run); gerr != nil {
				return err
			}
			fmt.Fprintf(m.Stderr, "%s: a run is already in progress (run %s, trigger %s); following it.\n", o.name, run.ID, run.Trigger)
		default:
			return err
		}
	}
	if !wait {
		fmt.Fprintln(m.Stdout, run.ID)
		fmt.Fprintf(m.Stderr, "Started run %s of %s; follow it with 'scimgate %s runs %s'.\n", run.ID, o.name, k.noun, o.name)
		return nil
	}
	final, err := m.followRun(ctx, c, o, run)
	if err != nil {
		return err
	}
	fmt.Fprintln(m.Stdout, runSummary(final))
	if final.Warnings > 0 {
		what := fmt.Sprintf("%d records were", final.Warnings)
		if final.Warnings == 1 {
			what = "1 record was"
		}
		fmt.Fprintf(m.Stderr, "warning: %s %s; the run's change log says why: GET %s\n",
			what, k.notApplied, "/api/v1"+o.path("runs", final.ID, "changes"))
	}
	for _, n := range final.Notes {
		fmt.Fprintln(m.Stderr, "note:", n)
	}
	return runOutcome(o, final)
}

func addSyncFlags(cmd *cobra.Command, full, dryRun, wait *bool) {
	f := cmd.Flags()
	f.BoolVar(full, "full", false, "read everything, not only what changed since the last run")
	f.BoolVar(dryRun, "dry-run", false, "report what would change without changing anything")
	f.BoolVar(wait, "wait", false, "follow the run until it ends; exit 1 unless it succeeded")
}

// runsCommand lists the owner's runs, newest first.
func (m *Main) runsCommand(k *runKind) *cobra.Command {
	var limit int
	cmd := &cobra.Command{
		Use:   "runs NAME|ID",
		Short: "List a " + k.noun + "'s runs, newest first",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, o, err := m.clientAndOwner(cmd, k, args[0])
			if err != nil {
				return err
			}
			var list struct {
				Runs []runView `json:"runs"`
			}
			q := url.Values{"limit": {strconv.Itoa(limit)}}
			if err := c.call(cmd.Context(), http.MethodGet, o.path("runs"), q, nil, &list); err != nil {
				return err
			}
			tw := tabwriter.NewWriter(m.Stdout, 0, 0, 2, ' ', 0)
			fmt.Fprintln(tw, "RUN\tSTATUS\tTRIGGER\tMODE\tQUEUED\tDURATION\tFETCHED\tCREATED\tUPDATED\tDEACTIVATED\tDELETED\tCONFLICTS\tERRORS")
			for _, r := range list.Runs {
				n := r.Counts
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%d\t%d\t%d\t%d\t%d\t%d\t%d\n", r.ID, r.Status, r.Trigger, modeText(r),
					formatTime(r.Queued), durationText(r), n.Fetched, n.Created, n.Updated, n.Deactivated, n.Deleted, n.Conflicts, n.Errors)
			}
			return tw.Flush()
		},
	}
	cmd.Flags().IntVar(&limit, "limit", 20, "how many runs to show (at most 200)")
	return cmd
}

// decideCommand approves or rejects a held run.
func (m *Main) decideCommand(k *runKind, approve bool, applied string) *cobra.Command {
	verb, short := "reject", "Reject a held run: nothing is removed, the next run looks again"
	if approve {
		verb, short = "approve", "Approve a held run: "+applied
	}
	var owner string
	cmd := &cobra.Command{
		Use:   verb + " RUN",
		Short: short,
		Long: short + `.

The run's ` + k.noun + ` is found by asking each ` + k.noun + ` for the run, unless
--` + k.noun + ` names it. 'scimgate ` + k.noun + ` runs NAME' shows held runs.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := m.client(cmd)
			if err != nil {
				return err
			}
			ctx := cmd.Context()
			o, err := c.ownerOfRun(ctx, k, args[0], owner)
			if err != nil {
				return err
			}
			var run runView
			if err := c.call(ctx, http.MethodPost, o.path("runs", args[0], verb), nil, nil, &run); err != nil {
				return err
			}
			fmt.Fprintln(m.Stdout, runSummary(run))
			return nil
		},
	}
	cmd.Flags().StringVar(&owner, k.noun, "", "name or id of the run's "+k.noun)
	return cmd
}

// ownerOfRun finds the source or app a run belongs to.
func (c *apiClient) ownerOfRun(ctx context.Context, k *runKind, runID, nameOrID string) (runOwner, error) {
	if nameOrID != "" {
		return k.resolve(ctx, c, nameOrID)
	}
	owners, err := k.list(ctx, c)
	if err != nil {
		return runOwner{}, err
	}
	for _, o := range owners {
		err := c.call(ctx, http.MethodGet, o.path("runs", runID), nil, nil, nil)
		var ae *apiError
		if errors.As(err, &ae) && ae.Status == http.StatusNotFound {
			continue
		}
		if err != nil {
			return runOwner{}, err
		}
		return o, nil
	}
	return runOwner{}, fmt.Errorf("no %s has a run %q; 'scimgate %s runs NAME' lists runs", k.noun, runID, k.noun)
}
