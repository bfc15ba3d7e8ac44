package main

import (
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/spf13/cobra"

	"github.com/scimgate/scimgate/sources"
)

// kindView is a source kind as GET /api/v1/kinds shows it, its settings
// in the description every kind gives of them (sources.Setting).
type kindView struct {
	Name        string            `json:"name"`
	Description string            `json:"description"`
	Settings    []sources.Setting `json:"settings"`
}

func (m *Main) sourceKindsCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "kinds [KIND]",
		Short: "List the source kinds the server knows, with every setting",
		Long: `List the source kinds of a running server (GET /api/v1/kinds) and each
kind's settings: its type, whether it is required, its default, whether it is
secret (write-only, encrypted at rest), what it is and an example. Give a
kind to show that one only. Set them with 'scimgate source add --setting'.`,
		Example: `  scimgate source kinds
  scimgate source kinds ldap`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := m.client(cmd)
			if err != nil {
				return err
			}
			var list struct {
				Kinds []kindView `json:"kinds"`
			}
			if err := c.call(cmd.Context(), http.MethodGet, "/kinds", nil, nil, &list); err != nil {
				return err
			}
			shown := list.Kinds
			if len(args) == 1 {
				shown = nil
				var names []string
				for _, k := range list.Kinds {
					names = append(names, k.Name)
					if k.Name == args[0] {
						shown = append(shown, k)
					}
				}
				if shown == nil {
					return fmt.Errorf("no kind %q on this server; it has %s", args[0], strings.Join(names, ", "))
				}
			}
			for i, k := range shown {
				if i > 0 {
					fmt.Fprintln(m.Stdout)
				}
				writeKind(m.Stdout, k)
			}
			return nil
		},
	}
}

// helpWidth is where help text is wrapped, for an 80-column terminal.
const helpWidth = 78

// writeKind prints a kind and its settings, one paragraph each:
//
//	ldap: Active Directory ...
//
//	  pageSize (integer; default 500)
//	      Users asked for per page ...
//	      Example: 1000
func writeKind(w io.Writer, k kindView) {
	fmt.Fprintln(w, wrap(k.Name+": "+k.Description, "", helpWidth))
	for _, s := range k.Settings {
		fmt.Fprintf(w, "\n  %s (%s)\n", s.Name, strings.Join(settingTraits(s), "; "))
		fmt.Fprintln(w, wrap(s.Help, "      ", helpWidth))
		if s.Example != "" {
			fmt.Fprintf(w, "      Example: %s\n", s.Example)
		}
	}
}

// settingTraits are what the line of a setting says about it besides its
// name: type (or allowed values), required, secret, default.
func settingTraits(s sources.Setting) []string {
	var out []string
	switch {
	case s.Type == sources.TypeEnum:
		out = append(out, "one of "+strings.Join(s.Values, ", "))
	case len(s.Values) > 0:
		out = append(out, fmt.Sprintf("%s of %s", s.Type, strings.Join(s.Values, ", ")))
	default:
		out = append(out, string(s.Type))
	}
	if s.Required {
		out = append(out, "required")
	}
	if s.Secret {
		out = append(out, "secret")
	}
	if s.Default != nil {
		out = append(out, "default "+settingValueText(s.Default))
	}
	return out
}

// settingValueText writes a default as an admin would type it (Example's
// format): a list's items separated by commas, numbers without JSON's
// float64 decimals.
func settingValueText(v any) string {
	switch d := v.(type) {
	case []any:
		items := make([]string, len(d))
		for i, item := range d {
			items[i] = fmt.Sprint(item)
		}
		return strings.Join(items, ",")
	case float64:
		return fmt.Sprintf("%g", d)
	}
	return fmt.Sprint(v)
}

// wrap breaks text into lines of at most width columns (a longer word
// stays whole), each starting with indent.
func wrap(text, indent string, width int) string {
	var b strings.Builder
	line := indent
	for _, word := range strings.Fields(text) {
		if line != indent && len(line)+1+len(word) > width {
			b.WriteString(line + "\n")
			line = indent
		}
		if line != indent {
			line += " "
		}
		line += word
	}
	b.WriteString(line)
	return b.String()
}
