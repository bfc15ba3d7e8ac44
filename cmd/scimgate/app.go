package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"text/tabwriter"

	"github.com/spf13/cobra"
)

// appView is an application as the commands show it.
type appView struct {
	ID       string   `json:"id"`
	Name     string   `json:"name"`
	Groups   string   `json:"groups"`
	Version  int64    `json:"version"`
	Warnings []string `json:"warnings"`
	Push     *struct {
		Enabled      bool       `json:"enabled"`
		Health       healthView `json:"health"`
		RunningRunID string     `json:"runningRunId"`
	} `json:"push"`
	Counts *struct {
		Users    int `json:"users"`
		Groups   int `json:"groups"`
		Departed int `json:"departed"`
	} `json:"counts"`
}

func appPath(idOrName string) string { return "/apps/" + url.PathEscape(idOrName) }

func (m *Main) appCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "app",
		Short: "Manage applications (scoped views with their own tokens) on a running server",
		Long: `Create and inspect applications through a running server's config API
(/api/v1/apps) with an admin token. An application is a downstream consumer
with its own view of the directory (scope groups, a filter, sources, an
attribute allow-list) and its own reader tokens; with "push" set, scimgate
also provisions the view into the application's own SCIM endpoint (test,
sync, runs, approve and reject work as for sources).

The server is --server or ` + envServer + ` (default ` + defaultServer + `); the
token is --token or ` + envToken + `. An application is named by its name or id.`,
		Example: `  scimgate app create --file crm.json
  scimgate app preview crm
  scimgate app test slack && scimgate app sync slack --full --wait
  CRM_TOKEN=$(scimgate app token crm --name crm-prod)`,
	}
	addClientFlags(cmd)
	cmd.AddCommand(m.appListCommand(), m.appShowCommand(), m.appWriteCommand(true), m.appWriteCommand(false),
		m.appDeleteCommand(), m.appPreviewCommand(), m.appTokenCommand(),
		m.appTestCommand(), m.appSyncCommand(), m.runsCommand(appRuns),
		m.decideCommand(appRuns, true, "apply the removals it holds"), m.decideCommand(appRuns, false, ""))
	return cmd
}

func (m *Main) appListCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "list",
		Short: "List applications with the size of their views",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := m.client(cmd)
			if err != nil {
				return err
			}
			var out struct {
				Apps []appView `json:"apps"`
			}
			if err := c.call(cmd.Context(), http.MethodGet, "/apps", nil, nil, &out); err != nil {
				return err
			}
			tw := tabwriter.NewWriter(m.Stdout, 0, 0, 2, ' ', 0)
			fmt.Fprintln(tw, "NAME\tID\tUSERS\tGROUPS\tDEPARTED\tVERSION\tPUSH")
			for _, a := range out.Apps {
				users, groups, departed := "?", "?", "?"
				if a.Counts != nil {
					users, groups, departed = fmt.Sprint(a.Counts.Users), fmt.Sprint(a.Counts.Groups), fmt.Sprint(a.Counts.Departed)
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%d\t%s\n", a.Name, a.ID, users, groups, departed, a.Version, pushText(a))
			}
			return tw.Flush()
		},
	}
}

// pushText is an app's push in one word or two: none, its health, or
// disabled (scheduled and after-change pushes off).
func pushText(a appView) string {
	switch p := a.Push; {
	case p == nil:
		return "-"
	case p.RunningRunID != "":
		return "running"
	case p.Health.Unhealthy || p.Health.ConsecutiveFailures > 0:
		return healthText(p.Health)
	case !p.Enabled:
		return "disabled"
	}
	return "ok"
}

func (m *Main) appShowCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "show NAME|ID",
		Short: "Print an application as JSON",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := m.client(cmd)
			if err != nil {
				return err
			}
			raw, err := c.callRaw(cmd.Context(), http.MethodGet, appPath(args[0]), nil, nil)
			if err != nil {
				return err
			}
			return m.printJSON(raw)
		},
	}
}

func (m *Main) printJSON(raw []byte) error {
	var out bytes.Buffer
	if err := json.Indent(&out, raw, "", "  "); err != nil {
		return fmt.Errorf("the server's answer is not JSON: %w", err)
	}
	out.WriteByte('\n')
	_, err := m.Stdout.Write(out.Bytes())
	return err
}

// appWriteCommand is create (POST) or update (PATCH: only the fields the
// file has change).
func (m *Main) appWriteCommand(create bool) *cobra.Command {
	var file, name string
	use, short := "update NAME|ID --file app.json", "Change the fields of an application that the file holds"
	args := cobra.ExactArgs(1)
	if create {
		use, short, args = "create --file app.json [--name NAME]", "Create an application and print its id", cobra.NoArgs
	}
	cmd := &cobra.Command{
		Use:   use,
		Short: short,
		Long: short + `.

The file is a JSON object in the API's shape (GET /api/v1/openapi.json,
AppInput): name, description, scope {groups, filter, sources,
includeInactive}, groups (scope|all|none), flattenGroups, attributes,
leaveGraceDays, push {url, auth {type bearer|oauth2, token | tokenURL,
clientId, clientSecret, scope}, schedule, afterChangeSeconds, profile,
match, onLeave, deletion, mapping, enabled}; "push": null removes the push.
Secrets are sealed by the server and never shown again; an update that
does not resend them keeps them. --name overrides the file's name.`,
		Args: args,
		RunE: func(cmd *cobra.Command, args []string) error {
			body, err := appBody(file)
			if err != nil {
				return err
			}
			if cmd.Flags().Changed("name") {
				body["name"] = name
			}
			c, err := m.client(cmd)
			if err != nil {
				return err
			}
			var a appView
			if create {
				err = c.call(cmd.Context(), http.MethodPost, "/apps", nil, body, &a)
			} else {
				err = c.call(cmd.Context(), http.MethodPatch, appPath(args[0]), nil, body, &a)
			}
			if err != nil {
				return err
			}
			if create {
				fmt.Fprintln(m.Stdout, a.ID)
				fmt.Fprintf(m.Stderr, "Created application %q. See its view with 'scimgate app preview %s'.\n", a.Name, a.Name)
			} else {
				fmt.Fprintf(m.Stderr, "Updated application %q (version %d).\n", a.Name, a.Version)
			}
			for _, w := range a.Warnings {
				fmt.Fprintln(m.Stderr, "warning:", w)
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&file, "file", "", "JSON file with the application in the API's shape")
	_ = cmd.MarkFlagRequired("file") // errors only for an undefined flag
	if create {
		cmd.Flags().StringVar(&name, "name", "", "name of the application (overrides the file's)")
	}
	return cmd
}

func appBody(file string) (map[string]any, error) {
	raw, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("application file: %w", err)
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber() // pass numbers through exactly
	body := map[string]any{}
	if err := dec.Decode(&body); err != nil {
		return nil, fmt.Errorf("application file %s is not a JSON object: %w", file, err)
	}
	return body, nil
}

func (m *Main) appDeleteCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "delete NAME|ID",
		Short: "Delete an application and revoke its tokens",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := m.client(cmd)
			if err != nil {
				return err
			}
			if err := c.call(cmd.Context(), http.MethodDelete, appPath(args[0]), nil, nil, nil); err != nil {
				return err
			}
			fmt.Fprintf(m.Stderr, "Deleted application %q; its tokens no longer authenticate.\n", args[0])
			return nil
		},
	}
}

func (m *Main) appPreviewCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "preview NAME|ID",
		Short: "Show how many users and groups the application sees, and the first of them",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := m.client(cmd)
			if err != nil {
				return err
			}
			var p struct {
				Users, Groups, Departed int
				UsersPage               []struct {
					UserName string `json:"userName"`
					Active   bool   `json:"active"`
					Departed bool   `json:"departed"`
				} `json:"usersPage"`
				GroupsPage []struct {
					DisplayName string `json:"displayName"`
					Members     int    `json:"members"`
				} `json:"groupsPage"`
			}
			if err := c.call(cmd.Context(), http.MethodGet, appPath(args[0])+"/preview", nil, nil, &p); err != nil {
				return err
			}
			fmt.Fprintf(m.Stdout, "%d users, %d groups, %d departed (within the leave grace)\n", p.Users, p.Groups, p.Departed)
			tw := tabwriter.NewWriter(m.Stdout, 0, 0, 2, ' ', 0)
			fmt.Fprintln(tw, "USER\tACTIVE\tDEPARTED")
			for _, u := range p.UsersPage {
				fmt.Fprintf(tw, "%s\t%t\t%t\n", u.UserName, u.Active, u.Departed)
			}
			if err := tw.Flush(); err != nil {
				return err
			}
			tw = tabwriter.NewWriter(m.Stdout, 0, 0, 2, ' ', 0)
			fmt.Fprintln(tw, "GROUP\tMEMBERS")
			for _, g := range p.GroupsPage {
				fmt.Fprintf(tw, "%s\t%d\n", g.DisplayName, g.Members)
			}
			return tw.Flush()
		},
	}
}

func (m *Main) appTokenCommand() *cobra.Command {
	var name string
	cmd := &cobra.Command{
		Use:   "token NAME|ID --name TOKEN",
		Short: "Create a reader token of the application's view and print it, once",
		Long: `Create a reader token that reads /scim/v2 as the application sees it,
and print it on stdout, alone on one line. Only a hash is stored.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := m.client(cmd)
			if err != nil {
				return err
			}
			var tok struct {
				Name    string `json:"name"`
				AppName string `json:"appName"`
				Token   string `json:"token"`
			}
			if err := c.call(cmd.Context(), http.MethodPost, appPath(args[0])+"/tokens", nil, map[string]any{"name": name}, &tok); err != nil {
				return err
			}
			fmt.Fprintln(m.Stdout, tok.Token)
			fmt.Fprintf(m.Stderr, "Created reader token %q for application %q. Copy it now: it cannot be shown again.\n", tok.Name, tok.AppName)
			return nil
		},
	}
	cmd.Flags().StringVar(&name, "name", "", "unique name of the token")
	_ = cmd.MarkFlagRequired("name")
	return cmd
}
