package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/scimgate/scimgate/storage"
)

func (m *Main) userCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "user",
		Short: "Inspect and split the people of linked sources on a running server",
		Long: `See where a user comes from and split a source's contribution off it,
through the running server's config API (/api/v1) with an admin token
(--server/` + envServer + `, --token/` + envToken + `, as for 'scimgate source').
A user is named by its SCIM id.`,
		Example: `  scimgate user provenance 2f0c0d7e-...
  scimgate user unlink 2f0c0d7e-... --source hr`,
	}
	addClientFlags(cmd)
	cmd.AddCommand(m.userProvenanceCommand(), m.userUnlinkCommand())
	return cmd
}

// provenanceView is GET /api/v1/users/{id}/provenance.
type provenanceView struct {
	ID            string `json:"id"`
	Contributions []struct {
		Source     string `json:"source"`
		SourceName string `json:"sourceName"`
		SourceKey  string `json:"sourceKey"`
		LinkedBy   string `json:"linkedBy"`
	} `json:"contributions"`
	Attributes map[string]struct {
		Source     string `json:"source"`
		SourceName string `json:"sourceName"`
	} `json:"attributes"`
}

func userPath(id string, more ...string) string {
	p := "/users/" + url.PathEscape(id)
	for _, s := range more {
		p += "/" + url.PathEscape(s)
	}
	return p
}

func (m *Main) userProvenanceCommand() *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "provenance ID",
		Short: "Show the sources a user comes from and each attribute's source",
		Long: `Show the sources that contribute to a user (each with the record's key
in it and the link key that joined it to the person) and, for each
attribute the user has, the source it came from (enterprise extension
attributes as enterprise.NAME). --json prints the API's answer as it is.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := m.client(cmd)
			if err != nil {
				return err
			}
			raw, err := c.callRaw(cmd.Context(), http.MethodGet, userPath(args[0], "provenance"), nil, nil)
			if err != nil {
				return err
			}
			if asJSON {
				var out bytes.Buffer
				if err := json.Indent(&out, raw, "", "  "); err != nil {
					return fmt.Errorf("the server's answer is not JSON: %w", err)
				}
				out.WriteByte('\n')
				_, err = m.Stdout.Write(out.Bytes())
				return err
			}
			var p provenanceView
			if err := json.Unmarshal(raw, &p); err != nil {
				return fmt.Errorf("the server's answer is not a provenance: %w", err)
			}
			tw := tabwriter.NewWriter(m.Stdout, 0, 0, 2, ' ', 0)
			fmt.Fprintln(tw, "SOURCE\tKEY\tLINKED BY")
			for _, ct := range p.Contributions {
				fmt.Fprintf(tw, "%s\t%s\t%s\n", nameOr(ct.SourceName, ct.Source), ct.SourceKey, nameOr(ct.LinkedBy, "-"))
			}
			fmt.Fprintln(tw, "\nATTRIBUTE\tFROM")
			for _, attr := range attributeOrder(p.Attributes) {
				a := p.Attributes[attr]
				fmt.Fprintf(tw, "%s\t%s\n", shortAttribute(attr), nameOr(a.SourceName, a.Source))
			}
			return tw.Flush()
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the API's JSON")
	return cmd
}

// attributeOrder lists attrs' paths in SCIM's order (the merge's), any
// others after them by name.
func attributeOrder[V any](attrs map[string]V) []string {
	known := storage.MergeAttributes()
	out := make([]string, 0, len(attrs))
	for a := range attrs {
		out = append(out, a)
	}
	rank := func(a string) int {
		if i := slices.Index(known, a); i >= 0 {
			return i
		}
		return len(known)
	}
	sort.Slice(out, func(i, j int) bool {
		ri, rj := rank(out[i]), rank(out[j])
		if ri != rj {
			return ri < rj
		}
		return out[i] < out[j]
	})
	return out
}

// shortAttribute names an enterprise extension attribute as
// "enterprise.manager", as the console does, so the table stays narrow
// (--json has the full paths).
func shortAttribute(path string) string {
	if name, ok := strings.CutPrefix(path, storage.EnterpriseSchema+":"); ok {
		return "enterprise." + name
	}
	return path
}

func nameOr(name, fallback string) string {
	if name == "" {
		return fallback
	}
	return name
}

func (m *Main) userUnlinkCommand() *cobra.Command {
	var source string
	cmd := &cobra.Command{
		Use:   "unlink ID --source NAME|ID",
		Short: "Split a source's contribution off a user into a user of its own",
		Long: `Split the contribution of one source off a linked user: its record becomes
a new user (printed on stdout, its id alone on one line), and later runs
keep the two apart even while their link keys match. The user keeps its id
and the rest of its sources. It is refused when the source is the user's
only one, or when the split would leave two users with one userName.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := m.client(cmd)
			if err != nil {
				return err
			}
			var res struct {
				ID         string `json:"id"`
				UserName   string `json:"userName"`
				SourceName string `json:"sourceName"`
			}
			if err := c.call(cmd.Context(), http.MethodPost, userPath(args[0], "unlink"), nil, map[string]string{"source": source}, &res); err != nil {
				return err
			}
			fmt.Fprintln(m.Stdout, res.ID)
			fmt.Fprintf(m.Stderr, "Split source %s off user %s: it is now user %s (%s).\n", res.SourceName, args[0], res.ID, res.UserName)
			return nil
		},
	}
	cmd.Flags().StringVar(&source, "source", "", "the contributing source to split off, by name or id")
	_ = cmd.MarkFlagRequired("source") // errors only for an undefined flag
	return cmd
}
