package main

import (
	"fmt"
	"strconv"
	"strings"
	"text/tabwriter"
)

// fileKeys lists the YAML keys of the config file, for usage strings.
func fileKeys() string {
	var keys []string
	for _, s := range settings() {
		keys = append(keys, s.key)
	}
	return strings.Join(keys, ", ")
}

// settingsTable renders every setting as a table of flag, environment
// variable, file key and default. It is generated from settings() so the
// help cannot drift from what loadConfig reads.
func settingsTable() string {
	var b strings.Builder
	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "  FLAG\tENVIRONMENT\tFILE KEY\tDEFAULT")
	def := DefaultConfig()
	for _, s := range settings() {
		fmt.Fprintf(tw, "  --%s\t%s\t%s\t%s\n", s.flag, s.env, s.key, defaultText(s.field(&def)))
	}
	fmt.Fprintf(tw, "  --%s\t%s\t-\t-\n", flagConfig, envConfig)
	tw.Flush()
	b.WriteString("\nRead from the environment only (secrets stay out of flags and files):\n")
	for _, s := range envOnlySettings() {
		fmt.Fprintf(&b, "  %s\n      %s\n", s.env, s.usage)
	}
	return b.String()
}

// defaultText shows the default a Config field pointer holds.
func defaultText(p any) string {
	switch p := p.(type) {
	case *string:
		if *p == "" {
			return "-"
		}
		return *p
	case *int64:
		return strconv.FormatInt(*p, 10)
	}
	return "?"
}
