package main

import (
	"fmt"

	"github.com/spf13/cobra"
)

// rootCommand builds the command tree. It is built afresh for every Run, so
// flag values never leak from one run into the next.
func (m *Main) rootCommand() *cobra.Command {
	root := &cobra.Command{
		Use:   "scimgate",
		Short: "SCIM 2.0 provisioning gateway",
		Long: `scimgate keeps users and groups from your directories and serves them
to SaaS applications over SCIM 2.0.

Start with 'scimgate token create --name app --role reader' and
'scimgate serve'; 'scimgate serve --help' lists every setting.`,
		// A command that fails at run time was not misused: print the
		// error alone, once, from main.
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetOut(m.Stdout)
	root.SetErr(m.Stderr)

	pf := root.PersistentFlags()
	addFlags(pf, "db", "dbMaxConns")
	pf.String(flagConfig, "", fmt.Sprintf("YAML config file with keys %s (env %s)", fileKeys(), envConfig))
	pf.Bool(flagNoExpandEnv, false, "use $VAR and ${VAR} in the config file literally instead of replacing them from the environment")

	// Flag mistakes are usage mistakes, so point at the help that
	// SilenceUsage keeps from being printed.
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		return fmt.Errorf("%w\nrun '%s --help' for usage", err, c.CommandPath())
	})

	root.AddCommand(
		m.serveCommand(),
		m.tokenCommand(),
		m.sourceCommand(),
		m.appCommand(),
		m.userCommand(),
		m.healthcheckCommand(),
		m.versionCommand(),
	)
	return root
}

// config loads and validates the configuration for cmd from its flags and
// the environment.
func (m *Main) config(cmd *cobra.Command) (Config, error) {
	return loadConfig(cmd.Flags(), m.LookupEnv)
}
