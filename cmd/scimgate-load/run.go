package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/scimgate/scimgate/api"
	"github.com/scimgate/scimgate/storage"
	"github.com/scimgate/scimgate/storage/sqlstore"
)

const departments = 50

func run(ctx context.Context, o options) error {
	dir := o.dir
	if dir == "" {
		tmp, err := os.MkdirTemp("", "scimgate-load-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(tmp)
		dir = tmp
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	db := filepath.Join(dir, "load.db")
	if o.db != "" {
		db = o.db
	}
	var token string
	var err error
	if _, statErr := os.Stat(db); o.reuse && (statErr == nil || o.db != "") {
		fmt.Printf("reusing %s (not loaded again)\n", db)
		token, err = readerToken(ctx, db)
	} else {
		token, err = seed(ctx, db, o.users)
	}
	if err != nil {
		return err
	}
	var admin string
	if o.app {
		if admin, err = adminToken(ctx, db); err != nil {
			return err
		}
	}

	var scimAddrs []string
	var child *exec.Cmd
	var scimAddr, bareAddr string
	for range max(o.replicas, 1) {
		c, sa, ba, err := startServer(ctx, db, o.pageCache)
		if err != nil {
			return err
		}
		defer func() {
			c.Process.Signal(syscall.SIGTERM)
			c.Wait()
		}()
		if child == nil {
			child, scimAddr, bareAddr = c, sa, ba
		}
		scimAddrs = append(scimAddrs, sa)
	}
	fmt.Printf("server RSS after start: %s\n", rss(child.Process.Pid))
	if o.walk {
		return walk(ctx, scimAddr, token, o.users, o.pageSize, child.Process.Pid)
	}

	userFmt := "/scim/v2/Users?filter=" + queryFormat(`userName eq "User%06d@Example.com"`)
	deptFmt := "/scim/v2/Users?count=100&filter=" + queryFormat(`urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department eq "dept%02d"`)
	pageBytes := 0
	if slices.Contains(o.scenarios, "barepage") {
		if pageBytes, err = copyPage(ctx, scimAddr, bareAddr, fmt.Sprintf(deptFmt, 0), token); err != nil {
			return fmt.Errorf("bare page: %w", err)
		}
	}
	var appToken string
	if o.app {
		if appToken, err = createApp(ctx, scimAddr, admin, o.users); err != nil {
			return err
		}
	}
	view := appViewSize(o.users)
	scenarios := []scenario{
		{key: "bare", name: "bare Echo handler, fixed 1 KB JSON", addr: bareAddr, pathFmt: "/bare?%d", n: 1},
		{key: "barepage", name: fmt.Sprintf("bare Echo handler, a department page scimgate returned (%d KB)", pageBytes>>10),
			addr: bareAddr, pathFmt: "/page?%d", n: 1, wantItems: min(100, o.users/departments)},
		{key: "user", name: `GET /Users?filter=userName eq "<random user>"`, addr: scimAddr, pathFmt: userFmt, n: o.users, auth: token, wantTotal: 1},
		{key: "dept", name: `GET /Users?filter=<enterprise department> eq "<random>"&count=100`, addr: scimAddr, pathFmt: deptFmt, n: departments,
			auth: token, wantItems: min(100, o.users/departments)},
		{key: "appuser", name: fmt.Sprintf(`app token (%d of %d users): userName eq "<random user in view>"`, view, o.users), addr: scimAddr, pathFmt: userFmt,
			n: view, auth: appToken, wantTotal: 1},
		{key: "appdept", name: "app token: <enterprise department> eq \"<random>\"&count=100", addr: scimAddr, pathFmt: deptFmt, n: departments,
			auth: appToken, wantItems: min(100, view/departments)},
	}
	if len(scimAddrs) > 1 {
		for i := range scenarios {
			if scenarios[i].key != "bare" {
				scenarios[i].addrs = scimAddrs
			}
		}
		fmt.Printf("replicas=%d (RSS figures are the first replica's)\n", len(scimAddrs))
	}
	scenarios = slices.DeleteFunc(scenarios, func(sc scenario) bool { return !slices.Contains(o.scenarios, sc.key) })
	fmt.Printf("users=%d conns=%d duration=%s driver=%s GOMAXPROCS=%d\n", o.users, o.conns, o.duration, o.driver, runtime.GOMAXPROCS(0))
	if o.rate > 0 {
		fmt.Printf("open loop: %.0f requests/s offered per scenario, latency counted from when each request was due\n", o.rate)
	}
	// The lookup is compared with the 1 KB bare answer, the department
	// page with the bare page of its own bytes.
	var bareRPS, barePageRPS, userRPS, deptRPS float64
	for _, sc := range scenarios {
		var res result
		if o.driver == "wrk" {
			res, err = driveWrk(ctx, dir, wrkScenario{addr: sc.addr, pathFmt: sc.pathFmt, auth: sc.auth, n: sc.n}, o.conns, o.duration)
		} else {
			res, err = drive(ctx, sc, o.conns, o.duration, o.rate)
		}
		if err != nil {
			return fmt.Errorf("%s: %w", sc.name, err)
		}
		switch sc.key {
		case "bare":
			bareRPS = res.rps
		case "barepage":
			barePageRPS = res.rps
		case "user":
			userRPS = res.rps
		case "dept":
			deptRPS = res.rps
		}
		rel := ""
		share := func(base float64, of string) {
			if base > 0 {
				rel = fmt.Sprintf(" (%.0f%% of %s)", 100*res.rps/base, of)
			}
		}
		switch sc.key {
		case "user":
			share(bareRPS, "bare")
		case "dept":
			share(barePageRPS, "bare page")
		case "appuser":
			share(userRPS, "user")
		case "appdept":
			share(deptRPS, "dept")
		}
		fmt.Printf("%-75s %8.0f req/s%s  p50 %6.2f ms  p99 %6.2f ms  errors %d  server RSS %s\n",
			sc.name, res.rps, rel, ms(res.p50), ms(res.p99), res.errors, rss(child.Process.Pid))
	}
	fmt.Printf("server peak RSS (VmHWM): %s\n", procStatus(child.Process.Pid, "VmHWM"))
	return nil
}

// startServer starts one server child on db and returns its addresses.
func startServer(ctx context.Context, db string, pageCache int) (*exec.Cmd, string, string, error) {
	return startServerEnv(ctx, db, pageCache, nil)
}

// startServerEnv is startServer with extra environment variables for the
// child (e.g. SCIMGATE_LOAD_CPUPROFILE for one of several children).
func startServerEnv(ctx context.Context, db string, pageCache int, env []string) (*exec.Cmd, string, string, error) {
	child := exec.CommandContext(ctx, os.Args[0], "-serve", db, "-pagecache", strconv.Itoa(pageCache))
	if env != nil {
		child.Env = append(os.Environ(), env...)
	}
	child.Stderr = os.Stderr
	out, err := child.StdoutPipe()
	if err != nil {
		return nil, "", "", err
	}
	if err := child.Start(); err != nil {
		return nil, "", "", err
	}
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		child.Process.Kill()
		child.Wait()
		return nil, "", "", fmt.Errorf("server did not start: %w", err)
	}
	var scimAddr, bareAddr string
	if _, err := fmt.Sscanf(strings.TrimSpace(line), "scim=%s bare=%s", &scimAddr, &bareAddr); err != nil {
		child.Process.Kill()
		child.Wait()
		return nil, "", "", fmt.Errorf("server said %q: %w", line, err)
	}
	return child, strings.TrimSuffix(scimAddr, " "), bareAddr, nil
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// seed loads users through the store in the batches a sync would write and
// reports the rate, then creates a reader token.
func seed(ctx context.Context, db string, n int) (string, error) {
	store, err := sqlstore.Open(ctx, db, sqlstore.Options{})
	if err != nil {
		return "", err
	}
	defer store.Close()
	const batch = 1000
	start := time.Now()
	users := make([]storage.User, 0, batch)
	for i := 0; i < n; i++ {
		users = append(users, sampleUser(i))
		if len(users) == batch || i == n-1 {
			if _, err := store.CreateUsers(ctx, users); err != nil {
				return "", err
			}
			users = users[:0]
		}
	}
	elapsed := time.Since(start)
	fmt.Printf("loaded %d users through the store in %s: %.0f users/s\n", n, elapsed.Round(time.Millisecond), float64(n)/elapsed.Seconds())
	return newReader(ctx, store)
}

// readerToken opens an existing database and adds a reader token to it.
func readerToken(ctx context.Context, db string) (string, error) {
	store, err := sqlstore.Open(ctx, db, sqlstore.Options{})
	if err != nil {
		return "", err
	}
	defer store.Close()
	return newReader(ctx, store)
}

// newReader creates a reader token with a fresh name and returns its bearer.
func newReader(ctx context.Context, store *sqlstore.Store) (string, error) {
	bearer, tok, err := api.NewToken(fmt.Sprintf("load-%d", time.Now().UnixNano()), storage.RoleReader, time.Now())
	if err != nil {
		return "", err
	}
	if _, err := store.CreateToken(ctx, tok); err != nil {
		return "", err
	}
	return bearer, nil
}

func sampleUser(i int) storage.User {
	return storage.User{
		ExternalID:  fmt.Sprintf("ext-%d", i),
		UserName:    fmt.Sprintf("user%06d@example.com", i),
		DisplayName: fmt.Sprintf("User %d", i),
		Name:        &storage.Name{GivenName: "Given", FamilyName: fmt.Sprintf("Family%d", i%1000)},
		Title:       "Engineer",
		Active:      i%10 != 0,
		Emails:      []storage.MultiValue{{Value: fmt.Sprintf("user%06d@example.com", i), Type: "work", Primary: true}},
		Enterprise: &storage.EnterpriseExt{
			EmployeeNumber: fmt.Sprintf("E%06d", i),
			Department:     fmt.Sprintf("dept%02d", i%departments),
			CostCenter:     "CC1",
		},
	}
}

// rss reads a process's resident set size from /proc.
func rss(pid int) string { return procStatus(pid, "VmRSS") }

// procStatus returns a field of /proc/PID/status, such as "12345 kB".
func procStatus(pid int, field string) string {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return "n/a"
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, field+":"); ok {
			return strings.Join(strings.Fields(v), " ")
		}
	}
	return "n/a"
}

// rssKiB is the resident set size in KiB, 0 when unknown.
func rssKiB(pid int) int {
	n, _ := strconv.Atoi(strings.TrimSuffix(rss(pid), " kB"))
	return n
}

// queryFormat URL-encodes a filter that holds one %0Nd verb and returns a
// format string (for both Go's fmt and Lua's string.format) that yields the
// encoded filter with a number in place of the verb.
func queryFormat(filter string) string {
	verb := regexp.MustCompile(`%0\d+d`).FindString(filter)
	enc := url.QueryEscape(strings.Replace(filter, verb, "NUMBERHERE", 1))
	return strings.Replace(strings.ReplaceAll(enc, "%", "%%"), "NUMBERHERE", verb, 1)
}

// copyPage fetches path from scimgate and hands the body to the bare
// server's /page, so both serve the same bytes; it returns their size.
func copyPage(ctx context.Context, scimAddr, bareAddr, path, token string) (int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+scimAddr+path, nil)
	if err != nil {
		return 0, err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err
	}
	body, err := io.ReadAll(res.Body)
	res.Body.Close()
	if err != nil {
		return 0, err
	}
	if res.StatusCode != http.StatusOK {
		return 0, fmt.Errorf("GET %s: %s", path, res.Status)
	}
	put, err := http.NewRequestWithContext(ctx, http.MethodPut, "http://"+bareAddr+"/page", bytes.NewReader(body))
	if err != nil {
		return 0, err
	}
	res, err = http.DefaultClient.Do(put)
	if err != nil {
		return 0, err
	}
	res.Body.Close()
	if res.StatusCode != http.StatusNoContent {
		return 0, fmt.Errorf("PUT the page to the bare server: %s", res.Status)
	}
	return len(body), nil
}
