package main

import (
	"context"
	"errors"
	"fmt"
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
	var name, role string
	cmd := &cobra.Command{
		Use:   "create --name NAME --role reader|writer|admin",
		Short: "Create a token and print it, once",
		Long: `Create a token and print it on stdout, alone on one line, so that
$(scimgate token create ...) captures it. Only a hash is stored: the token
cannot be shown again. Resources a writer token creates are owned by its name.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			// Check name and role before touching the database, so a typo
			// does not leave a new empty database behind.
			bearer, tok, err := api.NewToken(name, storage.Role(role), m.Now())
			if err != nil {
				return err
			}
			err = m.withStore(cmd, func(ctx context.Context, s storage.Store) error {
				if _, err := s.CreateToken(ctx, tok); err != nil {
					return err
				}
				return s.AddAudit(ctx, storage.AuditEntry{Actor: m.cliActor(), Action: "token.create", Target: name, Detail: "role=" + role})
			})
			if errors.Is(err, storage.ErrConflict) {
				return fmt.Errorf("a token named %q already exists; revoke it first or pick another name", name)
			}
			if err != nil {
				return fmt.Errorf("create token: %w", err)
			}
			fmt.Fprintln(m.Stdout, bearer)
			fmt.Fprintf(m.Stderr, "Created %s token %q. Copy it now: it cannot be shown again.\n", role, name)
			return nil
		},
	}
	cmd.Flags().StringVar(&name, "name", "", "unique name of the token, e.g. the application using it")
	cmd.Flags().StringVar(&role, "role", "", "reader (read /scim/v2), writer (read and write /scim/v2) or admin (config API)")
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
			err := m.withStore(cmd, func(ctx context.Context, s storage.Store) error {
				var err error
				toks, err = s.ListTokens(ctx)
				return err
			})
			if err != nil {
				return fmt.Errorf("list tokens: %w", err)
			}
			tw := tabwriter.NewWriter(m.Stdout, 0, 0, 2, ' ', 0)
			fmt.Fprintln(tw, "NAME\tROLE\tID\tCREATED\tLAST USED")
			for _, t := range toks {
				used := "never"
				if !t.LastUsed.IsZero() {
					used = t.LastUsed.UTC().Format(time.RFC3339)
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", t.Name, t.Role, t.ID, t.CreatedAt.UTC().Format(time.RFC3339), used)
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
