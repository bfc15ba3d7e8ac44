package main

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/scimgate/scimgate/api"
	"github.com/scimgate/scimgate/storage"
)

func (m *Main) tokenCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "token",
		Short: "Create, list and revoke API tokens",
		Long: `Manage the bearer tokens that SCIM clients and admins present.

These commands work on the database (--db) directly, so the server need
not be running.`,
	}
	cmd.AddCommand(m.tokenCreateCommand(), m.tokenListCommand(), m.tokenRevokeCommand())
	return cmd
}

func (m *Main) tokenCreateCommand() *cobra.Command {
	var name, role, app string
	cmd := &cobra.Command{
		Use:   "create --name NAME --role reader|writer|admin [--app APP]",
		Short: "Create a token and print it, once",
		Long: `Create a token and print it on stdout, alone on one line, so that
$(scimgate token create ...) captures it. Only a hash is stored: the token
cannot be shown again. Resources a writer token creates are owned by its name.

With --app (an application's id or name), the reader token reads only that
application's view of the directory; deleting the application revokes it.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			// Check name and role before touching the database, so a typo
			// does not leave a new empty database behind.
			bearer, tok, err := api.NewToken(name, storage.Role(role), m.Now())
			if err != nil {
				return err
			}
			if app != "" && tok.Role != storage.RoleReader {
				return fmt.Errorf("--app makes a reader of the application's view; %s tokens cannot belong to an application (use --role reader)", role)
			}
			detail := "role=" + role
			err = m.withStore(cmd, func(ctx context.Context, s storage.Store) error {
				if app != "" {
					a, err := s.GetApp(ctx, app)
					if errors.Is(err, storage.ErrNotFound) {
						return fmt.Errorf("no application has the id or name %q; 'scimgate app list' shows them", app)
					}
					if err != nil {
						return fmt.Errorf("find application %q: %w", app, err)
					}
					tok.App = a.ID
					detail += " app=" + a.ID
				}
				if _, err := s.CreateToken(ctx, tok); err != nil {
					return err
				}
				return s.AddAudit(ctx, storage.AuditEntry{Actor: m.cliActor(), Action: "token.create", Target: name, Detail: detail})
			})
			if errors.Is(err, storage.ErrConflict) {
				return fmt.Errorf("a token named %q already exists; revoke it first or pick another name", name)
			}
			if err != nil {
				return fmt.Errorf("create token: %w", err)
			}
			fmt.Fprintln(m.Stdout, bearer)
			if app != "" {
				fmt.Fprintf(m.Stderr, "Created reader token %q for application %q. Copy it now: it cannot be shown again.\n", name, app)
			} else {
				fmt.Fprintf(m.Stderr, "Created %s token %q. Copy it now: it cannot be shown again.\n", role, name)
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&name, "name", "", "unique name of the token, e.g. the application using it")
	cmd.Flags().StringVar(&role, "role", "", "reader (read /scim/v2), writer (read and write /scim/v2) or admin (config API)")
	cmd.Flags().StringVar(&app, "app", "", "bind a reader token to this application's view (id or name)")
	_ = cmd.MarkFlagRequired("name") // errors only for an undefined flag
	_ = cmd.MarkFlagRequired("role")
	return cmd
}

func (m *Main) tokenListCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "list",
		Short: "List tokens (never their secrets)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var toks []storage.Token
			appNames := map[string]string{}
			err := m.withStore(cmd, func(ctx context.Context, s storage.Store) error {
				var err error
				if toks, err = s.ListTokens(ctx); err != nil {
					return err
				}
				if !slices.ContainsFunc(toks, func(t storage.Token) bool { return t.App != "" }) {
					return nil
				}
				apps, err := s.ListApps(ctx)
				for _, a := range apps {
					appNames[a.ID] = a.Name
				}
				return err
			})
			if err != nil {
				return fmt.Errorf("list tokens: %w", err)
			}
			tw := tabwriter.NewWriter(m.Stdout, 0, 0, 2, ' ', 0)
			fmt.Fprintln(tw, "NAME\tROLE\tID\tCREATED\tLAST USED\tAPP")
			for _, t := range toks {
				used := "never"
				if !t.LastUsed.IsZero() {
					used = t.LastUsed.UTC().Format(time.RFC3339)
				}
				app := "-"
				if t.App != "" {
					app = cmp.Or(appNames[t.App], t.App)
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", t.Name, t.Role, t.ID, t.CreatedAt.UTC().Format(time.RFC3339), used, app)
			}
			return tw.Flush()
		},
	}
}

func (m *Main) tokenRevokeCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "revoke NAME",
		Short: "Delete a token so it no longer authenticates",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			name := args[0]
			err := m.withStore(cmd, func(ctx context.Context, s storage.Store) error {
				if err := s.DeleteToken(ctx, name); err != nil {
					return err
				}
				return s.AddAudit(ctx, storage.AuditEntry{Actor: m.cliActor(), Action: "token.revoke", Target: name})
			})
			if errors.Is(err, storage.ErrNotFound) {
				return fmt.Errorf("no token named %q; 'scimgate token list' shows the names", name)
			}
			if err != nil {
				return fmt.Errorf("revoke token: %w", err)
			}
			fmt.Fprintf(m.Stderr, "Revoked token %q.\n", name)
			return nil
		},
	}
}

// withStore loads the configuration, opens the database, runs fn on it and
// closes it again.
func (m *Main) withStore(cmd *cobra.Command, fn func(ctx context.Context, s storage.Store) error) (err error) {
	cfg, err := m.config(cmd)
	if err != nil {
		return err
	}
	ctx := cmd.Context()
	s, err := openStore(ctx, cfg, newLogger(m.Stderr, cfg), m.Now)
	if err != nil {
		return err
	}
	defer func() {
		if cerr := s.Close(); cerr != nil {
			err = errors.Join(err, fmt.Errorf("close database: %w", cerr))
		}
	}()
	return fn(ctx, s)
}

// cliActor names who acts from the command line in the audit log: the
// operating-system user, since no token is involved.
func (m *Main) cliActor() string {
	if u, ok := m.LookupEnv("USER"); ok && u != "" {
		return "cli:" + u
	}
	return "cli"
}
