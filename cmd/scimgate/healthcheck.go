package main

import (
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/spf13/cobra"
)

// healthcheckCommand probes a running server. It exists for container
// HEALTHCHECKs: the slim runtime image has no curl or wget.
func (m *Main) healthcheckCommand() *cobra.Command {
	var target string
	var timeout time.Duration
	client := &http.Client{}
	cmd := &cobra.Command{
		Use:   "healthcheck",
		Short: "Exit 0 if a running server answers /healthz with 200",
		Long: `Probe a running server's /healthz and exit 0 if it answers 200 OK, 1 otherwise.

Without --url it asks http://127.0.0.1:PORT/healthz, where PORT comes from
the listen setting (--config file, SCIMGATE_LISTEN or the default :8080),
so it agrees with the server started from the same environment; with
tlsCert set it asks https:// and does not verify the certificate (the
probe is over loopback and carries no secret).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if target == "" {
				cfg, err := m.config(cmd)
				if err != nil {
					return err
				}
				if target, err = healthURL(cfg.Listen); err != nil {
					return err
				}
				if cfg.TLSCert != "" {
					// The server's own certificate names its public host,
					// not 127.0.0.1; a liveness probe over loopback sends
					// no secret, so it does not verify it.
					target = "https" + strings.TrimPrefix(target, "http")
					client.Transport = &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}} //nolint:gosec // loopback liveness only
				}
			}
			ctx, cancel := context.WithTimeout(cmd.Context(), timeout)
			defer cancel()
			if err := probe(ctx, client, target); err != nil {
				return fmt.Errorf("healthcheck: %w", err)
			}
			fmt.Fprintln(m.Stdout, "ok")
			return nil
		},
	}
	cmd.Flags().StringVar(&target, "url", "", "health URL to probe (default: derived from the listen setting)")
	cmd.Flags().DurationVar(&timeout, "timeout", 5*time.Second, "give up after this long")
	return cmd
}

// healthURL is the /healthz URL of a server listening on listen, reached
// over loopback when it listens on every interface.
func healthURL(listen string) (string, error) {
	host, port, err := net.SplitHostPort(listen)
	if err != nil {
		return "", fmt.Errorf("listen %q is not host:port", listen)
	}
	if port == "0" {
		return "", fmt.Errorf("listen %q picks a random port; pass --url", listen)
	}
	if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
		host = "127.0.0.1"
	}
	return "http://" + net.JoinHostPort(host, port) + "/healthz", nil
}

// probe GETs url and succeeds only on 200 OK.
func probe(ctx context.Context, client *http.Client, url string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s answered %s", url, resp.Status)
	}
	return nil
}
