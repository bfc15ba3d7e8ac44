package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
)

func (m *Main) sourceCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "source",
		Short: "Manage sync sources on a running server",
		Long: `Add, inspect and run the sources a running server syncs from, through its
config API (/api/v1) with an admin token.

The server is --server or ` + envServer + ` (default ` + defaultServer + `); the
token is --token or ` + envToken + ` ('scimgate token create --role admin').
A source is named by its name or its id. Errors from the API are printed
with the problem of every field, and the command exits 1.`,
		Example: `  export SCIMGATE_TOKEN=$(scimgate token create --name ops --role admin)
  scimgate source kinds csv
  scimgate source add --name hr --kind csv --schedule 1h --setting usersPath=/data/users.csv
  scimgate source sync hr --wait
  scimgate source runs hr`,
	}
	addClientFlags(cmd)
	cmd.AddCommand(
		m.sourceListCommand(),
		m.sourceKindsCommand(),
		m.sourceAddCommand(),
		m.sourceUpdateCommand(),
		m.sourceShowCommand(),
		m.sourceTestCommand(),
		m.sourceSyncCommand(),
		m.runsCommand(sourceRuns),
		m.decideCommand(sourceRuns, true, "apply the deletions it holds"),
		m.decideCommand(sourceRuns, false, ""),
	)
	return cmd
}

func (m *Main) sourceListCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "list",
		Short: "List sources with their health and last run",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := m.client(cmd)
			if err != nil {
				return err
			}
			ctx := cmd.Context()
			srcs, err := c.sources(ctx)
			if err != nil {
				return err
			}
			tw := tabwriter.NewWriter(m.Stdout, 0, 0, 2, ' ', 0)
			fmt.Fprintln(tw, "NAME\tKIND\tENABLED\tSCHEDULE\tHEALTH\tLAST RUN\tID")
			for _, s := range srcs {
				// One small request per source: sources are few, and the
				// last run's status (held!) matters more than its time.
				var runs struct {
					Runs []runView `json:"runs"`
				}
				if err := c.call(ctx, http.MethodGet, sourcePath(s.ID, "runs"), url.Values{"limit": {"1"}}, nil, &runs); err != nil {
					return err
				}
				last := "never"
				if len(runs.Runs) > 0 {
					r := runs.Runs[0]
					last = r.Status + " " + formatTime(r.Queued)
				}
				fmt.Fprintf(tw, "%s\t%s\t%t\t%s\t%s\t%s\t%s\n", s.Name, s.Kind, s.Enabled, scheduleText(s.Schedule), healthText(s.Health), last, s.ID)
			}
			return tw.Flush()
		},
	}
}

func scheduleText(s string) string {
	if s == "" {
		return "manual"
	}
	return s
}

func healthText(h healthView) string {
	switch {
	case h.Unhealthy:
		return fmt.Sprintf("unhealthy (%d failures)", h.ConsecutiveFailures)
	case h.ConsecutiveFailures > 0:
		return fmt.Sprintf("failing (%d)", h.ConsecutiveFailures)
	}
	return "ok"
}

func formatTime(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.UTC().Format(time.RFC3339)
}

func (m *Main) sourceAddCommand() *cobra.Command {
	var name, kind, schedule, file string
	var settings []string
	var identity identityFlags
	cmd := &cobra.Command{
		Use:   "add (--name NAME --kind KIND [--schedule S] [--setting KEY=VALUE]... [--link NAME=TEMPLATE]... [--authoritative ATTR]... | --file source.json)",
		Short: "Create a source and print its id",
		Long: `Create a source and print its id on stdout, alone on one line.

The source is the JSON object of --file, in the API's shape
(GET /api/v1/openapi.json, SourceInput), with the flags applied on top.
--setting KEY=VALUE sets a setting to a string; KEY:=JSON sets it to a
JSON value (true, 3, ["a"]). Secret settings are sent once and never shown
again. Identity linking: --link NAME=TEMPLATE names a link key and the
mapping template that computes it (records of sources with the same value
for a key of the same name are one person), and --authoritative the
attributes this source wins on those people whatever its precedence. 'scimgate source kinds' lists every kind's settings (GET
/api/v1/kinds) and 'scimgate source list' the sources that exist.`,
		Example: `  scimgate source add --name hr --kind csv --schedule 1h \
      --setting usersPath=/data/users.csv --setting groupsPath=/data/groups.csv
  scimgate source add --file hr-source.json --name hr-copy
  scimgate source add --name hr --kind csv --setting usersPath=/data/hr.csv \
      --link employeeId={employeeNumber} --authoritative title,manager`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			body, err := sourceBody(file, settings)
			if err != nil {
				return err
			}
			for flag, value := range map[string]string{"name": name, "kind": kind, "schedule": schedule} {
				if cmd.Flags().Changed(flag) {
					body[flag] = value
				}
			}
			if err := identity.apply(cmd, body); err != nil {
				return err
			}
			c, err := m.client(cmd)
			if err != nil {
				return err
			}
			var created sourceView
			if err := c.call(cmd.Context(), http.MethodPost, "/sources", nil, body, &created); err != nil {
				return err
			}
			fmt.Fprintln(m.Stdout, created.ID)
			fmt.Fprintf(m.Stderr, "Created %s source %q. Run it with 'scimgate source sync %s --wait'.\n", created.Kind, created.Name, created.Name)
			for _, w := range created.Warnings {
				fmt.Fprintln(m.Stderr, "warning:", w)
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&name, "name", "", "unique name of the source")
	f.StringVar(&kind, "kind", "", "source kind, e.g. csv")
	f.StringVar(&schedule, "schedule", "", "interval (15m, 1h) or cron expression; empty: manual runs only")
	f.StringArrayVar(&settings, "setting", nil, "a setting as KEY=VALUE (string) or KEY:=JSON; repeatable")
	f.StringVar(&file, "file", "", "JSON file with the source in the API's shape")
	identity.register(cmd)
	return cmd
}

// sourceBody builds the create request from an optional JSON file and
// --setting flags (which win over the file's settings).
func sourceBody(file string, settings []string) (map[string]any, error) {
	body := map[string]any{}
	if file != "" {
		raw, err := os.ReadFile(file)
		if err != nil {
			return nil, fmt.Errorf("source file: %w", err)
		}
		dec := json.NewDecoder(bytes.NewReader(raw))
		dec.UseNumber() // pass numbers through exactly
		if err := dec.Decode(&body); err != nil {
			return nil, fmt.Errorf("source file %s is not a JSON object: %w", file, err)
		}
	}
	if len(settings) == 0 {
		return body, nil
	}
	merged, ok := body["settings"].(map[string]any)
	if !ok {
		merged = map[string]any{}
	}
	for _, s := range settings {
		key, value, err := parseSetting(s)
		if err != nil {
			return nil, err
		}
		merged[key] = value
	}
	body["settings"] = merged
	return body, nil
}

// parseSetting reads KEY=VALUE (a string) or KEY:=JSON.
func parseSetting(s string) (string, any, error) {
	key, value, ok := strings.Cut(s, "=")
	if !ok || key == "" || key == ":" {
		return "", nil, fmt.Errorf("--setting %q must be KEY=VALUE or KEY:=JSON", s)
	}
	if k, isJSON := strings.CutSuffix(key, ":"); isJSON {
		var v any
		if err := json.Unmarshal([]byte(value), &v); err != nil {
			return "", nil, fmt.Errorf("--setting %s:=%s: not JSON (use %s=%s for a string): %w", k, value, k, value, err)
		}
		return k, v, nil
	}
	return key, value, nil
}

func (m *Main) sourceShowCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "show NAME|ID",
		Short: "Print a source as JSON (secrets only by name)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, src, err := m.clientAndSource(cmd, args[0])
			if err != nil {
				return err
			}
			raw, err := c.callRaw(cmd.Context(), http.MethodGet, sourcePath(src.ID), nil, nil)
			if err != nil {
				return err
			}
			var out bytes.Buffer
			if err := json.Indent(&out, raw, "", "  "); err != nil {
				return fmt.Errorf("the server's answer is not JSON: %w", err)
			}
			out.WriteByte('\n')
			_, err = m.Stdout.Write(out.Bytes())
			return err
		},
	}
}

func (m *Main) sourceTestCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "test NAME|ID",
		Short: "Check that a source can connect with its settings",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, src, err := m.clientAndSource(cmd, args[0])
			if err != nil {
				return err
			}
			var res struct {
				OK      bool   `json:"ok"`
				Message string `json:"message"`
			}
			if err := c.call(cmd.Context(), http.MethodPost, sourcePath(src.ID, "test"), nil, nil, &res); err != nil {
				return err
			}
			if !res.OK {
				return fmt.Errorf("source %s: %s", src.Name, res.Message)
			}
			fmt.Fprintf(m.Stdout, "ok: %s\n", res.Message)
			return nil
		},
	}
}

func modeText(r runView) string {
	mode := r.Mode
	if mode == "" {
		mode = "-"
	}
	if r.DryRun {
		mode += " (dry run)"
	}
	return mode
}

func durationText(r runView) string {
	if r.Started == nil || r.Finished == nil {
		return "-"
	}
	return r.Finished.Sub(*r.Started).Round(time.Millisecond).String()
}

// clientAndSource opens the API client and finds the source named by
// nameOrID, which most source subcommands start with.
func (m *Main) clientAndSource(cmd *cobra.Command, nameOrID string) (*apiClient, sourceView, error) {
	c, err := m.client(cmd)
	if err != nil {
		return nil, sourceView{}, err
	}
	src, err := c.resolve(cmd.Context(), nameOrID)
	return c, src, err
}
