package main

import (
	"fmt"
	"net/http"
	"strings"

	"github.com/spf13/cobra"
)

// identityFlags are a source's identity linking fields as flags: link
// keys (--link NAME=TEMPLATE) and authoritative attributes, which the API
// replaces whole when they are sent.
type identityFlags struct {
	link             []string
	authoritative    []string
	noLink, noAuthz  bool
	withClearOptions bool // update has --no-link and --no-authoritative
}

func (f *identityFlags) register(cmd *cobra.Command) {
	fs := cmd.Flags()
	fs.StringArrayVar(&f.link, "link", nil, "a link key as NAME=TEMPLATE, e.g. employeeId={employeeNumber}; repeatable; the keys given are the source's whole set")
	fs.StringSliceVar(&f.authoritative, "authoritative", nil, "attributes this source wins on linked people (title, manager, ...); repeatable or comma-separated; the whole list")
	if f.withClearOptions {
		fs.BoolVar(&f.noLink, "no-link", false, "remove every link key")
		fs.BoolVar(&f.noAuthz, "no-authoritative", false, "remove the authoritative list")
	}
}

// apply puts the flags that were given on body, over a file's values.
func (f *identityFlags) apply(cmd *cobra.Command, body map[string]any) error {
	changed := cmd.Flags().Changed
	if f.noLink && changed("link") {
		return fmt.Errorf("--no-link and --link contradict each other")
	}
	if f.noAuthz && changed("authoritative") {
		return fmt.Errorf("--no-authoritative and --authoritative contradict each other")
	}
	if changed("link") {
		link := map[string]any{}
		for _, l := range f.link {
			name, tmpl, ok := strings.Cut(l, "=")
			if !ok || strings.TrimSpace(name) == "" {
				return fmt.Errorf("--link %q must be NAME=TEMPLATE, e.g. employeeId={employeeNumber}", l)
			}
			link[strings.TrimSpace(name)] = tmpl
		}
		body["link"] = link
	}
	if changed("authoritative") {
		body["authoritative"] = f.authoritative
	}
	if f.noLink {
		body["link"] = nil
	}
	if f.noAuthz {
		body["authoritative"] = nil
	}
	return nil
}

func (m *Main) sourceUpdateCommand() *cobra.Command {
	var file, name, schedule string
	var settings []string
	identity := identityFlags{withClearOptions: true}
	cmd := &cobra.Command{
		Use:   "update NAME|ID [--file source.json] [--schedule S] [--setting KEY=VALUE]... [--link NAME=TEMPLATE]... [--authoritative ATTR]...",
		Short: "Change the fields of a source that the file and flags give",
		Long: `Change a source (PATCH /api/v1/sources/{id}): only the fields that the
JSON object of --file and the flags give change. Settings merge key by key
(KEY:=null removes one); mapping merges target by target; link and
authoritative are replaced whole: --link NAME=TEMPLATE, repeated, gives
every link key the source has after the update, and --no-link removes
them all (likewise --authoritative and --no-authoritative). Changed link
keys take effect on the source's next full run
('scimgate source sync NAME --full --dry-run' shows what it would link).`,
		Example: `  scimgate source update hr --link employeeId={employeeNumber} --authoritative title,manager
  scimgate source update hr --schedule 30m --setting groupsPath:=null
  scimgate source update hr --no-link`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			body, err := sourceBody(file, settings)
			if err != nil {
				return err
			}
			for flag, value := range map[string]string{"name": name, "schedule": schedule} {
				if cmd.Flags().Changed(flag) {
					body[flag] = value
				}
			}
			if err := identity.apply(cmd, body); err != nil {
				return err
			}
			if len(body) == 0 {
				return fmt.Errorf("nothing to change: give --file or a flag ('scimgate source update --help')")
			}
			c, src, err := m.clientAndSource(cmd, args[0])
			if err != nil {
				return err
			}
			var updated sourceView
			if err := c.call(cmd.Context(), http.MethodPatch, sourcePath(src.ID), nil, body, &updated); err != nil {
				return err
			}
			fmt.Fprintf(m.Stderr, "Updated source %q.\n", updated.Name)
			for _, w := range updated.Warnings {
				fmt.Fprintln(m.Stderr, "warning:", w)
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&name, "name", "", "new name of the source")
	f.StringVar(&schedule, "schedule", "", "interval (15m, 1h) or cron expression; empty: manual runs only")
	f.StringArrayVar(&settings, "setting", nil, "a setting as KEY=VALUE (string) or KEY:=JSON (null removes it); repeatable")
	f.StringVar(&file, "file", "", "JSON file with the fields to change, in the API's shape")
	identity.register(cmd)
	return cmd
}
