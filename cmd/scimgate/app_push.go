package main

import (
	"context"
	"fmt"
	"net/http"

	"github.com/spf13/cobra"
)

// The app verbs of outbound push: test, sync, runs, approve, reject,
// with the run verbs shared with sources (runs.go).

// appRuns is the runKind of apps' pushes.
var appRuns = newAppRuns()

func newAppRuns() *runKind {
	k := &runKind{noun: "app", collection: "/apps", guard: "the app's push deletion limits",
		notApplied: "not pushed as the view has it"}
	// The API finds an app by id or name itself.
	k.resolve = func(ctx context.Context, c *apiClient, nameOrID string) (runOwner, error) {
		var a appView
		if err := c.call(ctx, http.MethodGet, appPath(nameOrID), nil, nil, &a); err != nil {
			return runOwner{}, err
		}
		return runOwner{kind: k, name: a.Name, id: a.ID}, nil
	}
	k.list = func(ctx context.Context, c *apiClient) ([]runOwner, error) {
		var list struct {
			Apps []appView `json:"apps"`
		}
		if err := c.call(ctx, http.MethodGet, "/apps", nil, nil, &list); err != nil {
			return nil, err
		}
		var out []runOwner
		for _, a := range list.Apps {
			if a.Push != nil {
				out = append(out, runOwner{kind: k, name: a.Name, id: a.ID})
			}
		}
		return out, nil
	}
	return k
}

func (m *Main) appSyncCommand() *cobra.Command {
	var full, dryRun, wait bool
	cmd := &cobra.Command{
		Use:   "sync NAME|ID [flags]",
		Short: "Push an application's view into its SCIM endpoint now",
		Long: `Start a push of an application's view into the application's own SCIM
endpoint (its "push" settings) now, and print the run's id on stdout.

--full reads the target's users and groups and reconciles everything;
otherwise only what changed in the view since the last successful push is
sent. --dry-run sends nothing and records every request it would send in
the run's change log.

With --wait the command follows the run as 'scimgate source sync --wait'
does: progress on stderr, the outcome and counts on stdout, exit 0 when
the run succeeded and 1 when it failed or is held for approval (it would
deactivate or delete more than the push's deletion limits allow); a held
run is decided with 'scimgate app approve RUN' or 'scimgate app reject RUN'.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return m.startRun(cmd, appRuns, args[0], full, dryRun, wait)
		},
	}
	addSyncFlags(cmd, &full, &dryRun, &wait)
	return cmd
}

func (m *Main) appTestCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "test NAME|ID",
		Short: "Check that scimgate can reach and provision an application's SCIM endpoint",
		Long: `Reach the application's push target, check its credentials and its
capabilities against the push profile, and print each check; exit 1 when
one failed.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, o, err := m.clientAndOwner(cmd, appRuns, args[0])
			if err != nil {
				return err
			}
			var rep struct {
				OK     bool `json:"ok"`
				Checks []struct {
					Name   string `json:"name"`
					OK     bool   `json:"ok"`
					Detail string `json:"detail"`
				} `json:"checks"`
			}
			if err := c.call(cmd.Context(), http.MethodPost, o.path("test"), nil, nil, &rep); err != nil {
				return err
			}
			var failed string
			for _, ch := range rep.Checks {
				mark := "ok  "
				if !ch.OK {
					mark = "FAIL"
					if failed == "" {
						failed = ch.Name
					}
				}
				line := mark + " " + ch.Name
				if ch.Detail != "" {
					line += ": " + ch.Detail
				}
				fmt.Fprintln(m.Stdout, line)
			}
			if !rep.OK {
				if failed == "" {
					failed = "the test"
				}
				return fmt.Errorf("app %s: the push target failed check %s", o.name, failed)
			}
			return nil
		},
	}
}
