package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/scimgate/scimgate/api"
	"github.com/scimgate/scimgate/storage"
	"github.com/scimgate/scimgate/storage/sqlstore"
)

// pushTarget is a second scimgate, in a child process (-serve) on its own
// SQLite file, that the push provisions: the issue's "scimgate itself is a
// complete SCIM server" target. Its writer token is what the push and the
// baseline authenticate with.
type pushTarget struct {
	cmd    *exec.Cmd
	addr   string
	token  string
	client *http.Client
}

// startPushTarget creates a database in dir named name with a writer
// token and serves it.
// A non-empty cpuProfile is where the child writes its CPU profile.
func startPushTarget(ctx context.Context, dir, name, cpuProfile string) (*pushTarget, error) {
	db := filepath.Join(dir, name+".db")
	store, err := sqlstore.Open(ctx, db, sqlstore.Options{})
	if err != nil {
		return nil, fmt.Errorf("target %s: %w", name, err)
	}
	bearer, tok, err := api.NewToken("push-"+name, storage.RoleWriter, time.Now())
	if err == nil {
		_, err = store.CreateToken(ctx, tok)
	}
	if cerr := store.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return nil, fmt.Errorf("target %s: writer token: %w", name, err)
	}
	var env []string
	if cpuProfile != "" {
		env = []string{"SCIMGATE_LOAD_CPUPROFILE=" + cpuProfile}
	}
	cmd, addr, _, err := startServerEnv(ctx, db, 0, env)
	if err != nil {
		return nil, fmt.Errorf("target %s: %w", name, err)
	}
	return &pushTarget{cmd: cmd, addr: addr, token: bearer,
		client: &http.Client{Timeout: time.Minute, Transport: &http.Transport{MaxIdleConnsPerHost: 64}}}, nil
}

// base is the target's SCIM base URL.
func (t *pushTarget) base() string { return "http://" + t.addr + "/scim/v2" }

func (t *pushTarget) stop() {
	t.cmd.Process.Signal(syscall.SIGTERM)
	t.cmd.Wait()
}

// requests reads the target's own count of the SCIM requests it served,
// by method (its /metrics, scimgate_http_requests_total on /scim/v2/*),
// so what the push sent is counted where it arrived.
func (t *pushTarget) requests(ctx context.Context) (map[string]int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+t.addr+"/metrics", nil)
	if err != nil {
		return nil, err
	}
	res, err := t.client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("target metrics: %w", err)
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("target metrics: %s", res.Status)
	}
	out := map[string]int{}
	sc := bufio.NewScanner(res.Body)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		labels, value, ok := strings.Cut(strings.TrimPrefix(sc.Text(), api.MetricHTTPRequests+"{"), "} ")
		if !ok || !strings.HasPrefix(sc.Text(), api.MetricHTTPRequests+"{") || !strings.Contains(labels, `route="/scim/v2/*"`) {
			continue
		}
		method := labelValue(labels, "method")
		n, err := strconv.ParseFloat(value, 64)
		if err != nil {
			return nil, fmt.Errorf("target metrics: %q: %w", sc.Text(), err)
		}
		out[method] += int(n)
	}
	return out, sc.Err()
}

// labelValue is the value of name in a Prometheus label list.
func labelValue(labels, name string) string {
	for _, kv := range strings.Split(labels, ",") {
		if v, ok := strings.CutPrefix(kv, name+`="`); ok {
			return strings.TrimSuffix(v, `"`)
		}
	}
	return ""
}

// requestDelta is after minus before, by method, and its total.
func requestDelta(before, after map[string]int) (map[string]int, int) {
	out := map[string]int{}
	total := 0
	for m, n := range after {
		if d := n - before[m]; d != 0 {
			out[m] = d
			total += d
		}
	}
	return out, total
}

// targetResource is what the checks read of a target's resource.
type targetResource struct {
	ID          string `json:"id"`
	UserName    string `json:"userName"`
	DisplayName string `json:"displayName"`
	Active      *bool  `json:"active"`
	Members     []struct {
		Value string `json:"value"`
	} `json:"members"`
}

// list reads every resource of kind (Users, Groups), paged by index.
func (t *pushTarget) list(ctx context.Context, kind string) ([]targetResource, error) {
	var out []targetResource
	for start := 1; ; {
		var page struct {
			TotalResults int              `json:"totalResults"`
			Resources    []targetResource `json:"Resources"`
		}
		path := fmt.Sprintf("/%s?startIndex=%d&count=500", kind, start)
		if err := t.get(ctx, path, &page); err != nil {
			return nil, err
		}
		out = append(out, page.Resources...)
		start += len(page.Resources)
		if len(page.Resources) == 0 || start > page.TotalResults {
			return out, nil
		}
	}
}

// get reads path under the SCIM base into out; a 404 is storage.ErrNotFound.
func (t *pushTarget) get(ctx context.Context, path string, out any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, t.base()+path, nil)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+t.token)
	res, err := t.client.Do(req)
	if err != nil {
		return fmt.Errorf("GET %s: %w", path, err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(io.LimitReader(res.Body, 64<<20))
	if err != nil {
		return fmt.Errorf("GET %s: %w", path, err)
	}
	switch res.StatusCode {
	case http.StatusOK:
		return json.Unmarshal(b, out)
	case http.StatusNotFound:
		return fmt.Errorf("GET %s: %w", path, storage.ErrNotFound)
	default:
		return fmt.Errorf("GET %s: %s: %s", path, res.Status, b)
	}
}

// userActive reads the target's user id and says whether it is active.
func (t *pushTarget) userActive(ctx context.Context, id string) (bool, error) {
	var r targetResource
	if err := t.get(ctx, "/Users/"+url.PathEscape(id), &r); err != nil {
		return false, err
	}
	return r.Active == nil || *r.Active, nil
}
