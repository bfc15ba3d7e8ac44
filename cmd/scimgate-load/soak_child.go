package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// soakServer is the real scimgate binary serving on loopback in a child
// process, so its peak RSS is the server's alone.
type soakServer struct {
	cmd    *exec.Cmd
	base   string
	admin  string
	client *http.Client
	done   chan error
	once   sync.Once
	exit   error
	// throttled counts 429 answers the clients waited out and retried.
	throttled atomic.Int64
	logMu     sync.Mutex
	log       bytes.Buffer
}

// buildScimgate compiles cmd/scimgate into dir (the soak measures the
// binary that ships, with its real wiring of runner and scheduler).
// With race set it is built with the race detector, whose reports end the
// server with exit status 66.
func buildScimgate(ctx context.Context, dir string, race bool) (string, error) {
	bin := filepath.Join(dir, "scimgate")
	args := []string{"build", "-o", bin}
	if race {
		args = append(args, "-race")
	}
	out, err := exec.CommandContext(ctx, "go", append(args, "github.com/scimgate/scimgate/cmd/scimgate")...).CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("go build scimgate: %w: %s", err, out)
	}
	return bin, nil
}

// startSoakServer runs `scimgate serve` on 127.0.0.1 with a random port in
// work, allowed to read csv files in csvDir, and waits for its "scimgate
// serving" log line.
func startSoakServer(ctx context.Context, bin, work, csvDir, admin string, conns int) (*soakServer, error) {
	cmd := exec.Command(bin, "serve", "--listen", "127.0.0.1:0", "--csv-dir", csvDir)
	cmd.Dir = work
	cmd.Env = append(os.Environ(), "SCIMGATE_ADMIN_TOKEN="+admin, "SCIMGATE_LOG_FORMAT=json", "SCIMGATE_LOG_LEVEL=info")
	pr, pw := io.Pipe()
	cmd.Stderr = pw
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	s := &soakServer{cmd: cmd, admin: admin, done: make(chan error, 1),
		client: &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: conns + 4}}}
	go func() { s.done <- cmd.Wait(); pw.Close() }()
	addr := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(pr)
		sc.Buffer(make([]byte, 64<<10), 4<<20)
		for sc.Scan() {
			line := sc.Text()
			var rec struct{ Msg, Listen, Level string }
			if json.Unmarshal([]byte(line), &rec) == nil {
				if rec.Msg == "scimgate serving" {
					addr <- rec.Listen
				}
				// Access logs at info are the bulk; keep warnings and errors.
				if rec.Level == "WARN" || rec.Level == "ERROR" {
					s.logMu.Lock()
					if s.log.Len() < 1<<20 {
						s.log.WriteString(line + "\n")
					}
					s.logMu.Unlock()
				}
			}
		}
		io.Copy(io.Discard, pr)
	}()
	select {
	case a := <-addr:
		s.base = "http://" + a
		return s, nil
	case err := <-s.done:
		return nil, fmt.Errorf("scimgate ended before listening: %v", err)
	case <-time.After(30 * time.Second):
		s.stop()
		return nil, fmt.Errorf("scimgate did not start in 30s")
	case <-ctx.Done():
		s.stop()
		return nil, ctx.Err()
	}
}

// stop sends SIGINT and waits for the graceful shutdown; later calls
// return the first one's result.
func (s *soakServer) stop() error {
	s.once.Do(func() {
		s.cmd.Process.Signal(os.Interrupt)
		select {
		case s.exit = <-s.done:
		case <-time.After(20 * time.Second):
			s.cmd.Process.Kill()
			<-s.done
			s.exit = fmt.Errorf("scimgate did not stop in 20s")
		}
	})
	return s.exit
}

// warnings is the warn and error lines the server logged.
func (s *soakServer) warnings() string {
	s.logMu.Lock()
	defer s.logMu.Unlock()
	return s.log.String()
}

// call sends a JSON request and returns the status and body.
func (s *soakServer) call(ctx context.Context, method, path, token string, body any) (int, []byte, error) {
	status, raw, _, err := s.send(ctx, method, path, token, body)
	return status, raw, err
}

func (s *soakServer) send(ctx context.Context, method, path, token string, body any) (int, []byte, http.Header, error) {
	var rd io.Reader
	if body != nil {
		raw, err := json.Marshal(body)
		if err != nil {
			return 0, nil, nil, err
		}
		rd = bytes.NewReader(raw)
	}
	req, err := http.NewRequestWithContext(ctx, method, s.base+path, rd)
	if err != nil {
		return 0, nil, nil, err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	if body != nil {
		ct := "application/scim+json"
		if strings.HasPrefix(path, "/api/") {
			ct = "application/json"
		}
		req.Header.Set("Content-Type", ct)
	}
	resp, err := s.client.Do(req)
	if err != nil {
		return 0, nil, nil, err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	return resp.StatusCode, raw, resp.Header, err
}

// callPolitely is call as a well-behaved client makes it: a 429 (the
// per-token request rate) is waited out for its Retry-After and retried.
func (s *soakServer) callPolitely(ctx context.Context, method, path, token string, body any) (int, []byte, error) {
	for attempt := 0; ; attempt++ {
		status, raw, hdr, err := s.send(ctx, method, path, token, body)
		if status != http.StatusTooManyRequests || attempt == 20 {
			return status, raw, err
		}
		s.throttled.Add(1)
		wait := time.Second
		if secs, err := strconv.Atoi(hdr.Get("Retry-After")); err == nil && secs > 0 {
			wait = time.Duration(secs) * time.Second
		}
		select {
		case <-ctx.Done():
			return status, raw, ctx.Err()
		case <-time.After(wait):
		}
	}
}

// admin calls the config API and decodes a wanted answer into out.
func (s *soakServer) adminCall(ctx context.Context, method, path string, body any, want int, out any) error {
	status, raw, err := s.call(ctx, method, path, s.admin, body)
	if err != nil {
		return fmt.Errorf("%s %s: %w", method, path, err)
	}
	if status != want {
		return fmt.Errorf("%s %s = %d %.300s, want %d", method, path, status, raw, want)
	}
	if out != nil {
		return json.Unmarshal(raw, out)
	}
	return nil
}
